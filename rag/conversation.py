"""Follow-up questions: what the conversation so far adds to the question just asked.

"What did she say about the budget?" after a question about the council's leader becomes
"What did Élodie Martin say about the budget?" for searching, while the user's own words still
decide which sentence answers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.nlp import shared_parser
from rag.text import terms

History = Sequence[tuple[str, str]]
_PERSONAL = re.compile(r"\b(he|she|him|her)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(his|her)\b(?=\s+\w)", re.IGNORECASE)
_WHO_IS = re.compile(r"^\s*who (?:is|was|are|were) (.+?)\s*\??\s*$", re.IGNORECASE)
MAX_NAMES = 8
NAMED = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT"})  # entity labels a follow-up may mean
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|thanks|thank you|thx|cheers|ok|okay|bye|goodbye|good (?:morning|afternoon|evening))"
    r"(?:\s+(?:there|again|a lot|so much|very much))?[\s!.,?]*$",
    re.IGNORECASE,
)
# Words that only make sense with the conversation so far ("What did *she* say about the budget?").
_ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|there|the same|"
    r"the group|the official|the minister|the spokesman|the spokesperson|the article)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|why|how come|anything else|more)\b", re.IGNORECASE)


def needs_history(question: str) -> bool:
    """True when the question leans on earlier turns: a pronoun, or "and ...", "what about ..."."""
    return bool(_ANAPHORA.search(question) or _CONTINUATION.search(question) or len(terms(question)) <= 1)


def is_greeting(question: str) -> bool:
    """Small talk ("hi", "thanks!") that no rewriting should turn into a question about the articles."""
    return bool(_GREETING.match(question))


def contextualize(question: str, history: History) -> str:
    """The question plus the last turn when it needs one; otherwise the question unchanged.

    From the last turn it keeps the question and the names in the answer (who "he" may be), not
    the whole answer, so the follow-up is not pulled back to the sentences already quoted.
    """
    if not history or not needs_history(question):
        return question
    previous_question, previous_answer = history[-1]
    names = list(dict.fromkeys(e.text for e in shared_parser()(previous_answer).ents if e.label_ in NAMED))[:MAX_NAMES]
    return " ".join([resolve_person(question, history), previous_question, *names])


def resolve_person(question: str, history: History) -> str:
    """Replace "he"/"she" with the person the last turn was about, when one is named.

    >>> resolve_person("What did he say?", [("Who chairs the club?", "The chairman, Peter Walsh, said ...")])
    'What did Peter Walsh say?'
    """
    if not history or not _PERSONAL.search(question):
        return question
    previous_question, previous_answer = history[-1]
    # "Who is ...?" is answered by a name; otherwise the person asked about is the topic.
    asks_who = previous_question.lstrip().lower().startswith("who")
    ordered = (previous_answer, previous_question) if asks_who else (previous_question, previous_answer)
    person = _first_person(ordered[0]) or _first_person(ordered[1])
    if person is None:
        return question
    question = _POSSESSIVE.sub(f"{person}'s", question)
    role = _WHO_IS.match(previous_question) if asks_who else None
    if role and _first_person(role.group(1)) is None:
        # Articles often say "the club's chairman said" rather than the name again.
        return _PERSONAL.sub(f"{person}, {role.group(1)},", question)
    return _PERSONAL.sub(person, question)


def _first_person(text: str) -> str | None:
    """The first person the named-entity model finds in ``text`` (without a possessive "'s")."""
    for entity in shared_parser()(text).ents:
        if entity.label_ == "PERSON":
            return entity.text.removesuffix("’s").removesuffix("'s")
    return None


@dataclass(frozen=True)
class Query:
    """One question in its conversation."""

    asked: str  # the user's own words: they decide wording matches
    standalone: str  # "he" replaced by the person meant: searched and matched by meaning
    context: str  # standalone plus the last turn's question and names: searched too
    said: str  # the earlier answers, which a follow-up should not repeat

    @classmethod
    def build(cls, question: str, history: History = ()) -> Query:
        return cls(
            asked=question,
            standalone=resolve_person(question, history),
            context=contextualize(question, history),
            said=" ".join(answer for _, answer in history),
        )
