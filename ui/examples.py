"""Example questions for the chat page, made from the indexed articles' opening lines.

An article's first lines name what it is about; the first person, place, organisation or event
the named-entity model finds there makes a question the article can answer ("Who is Sofia
Almeida?"), whatever the corpus. (Titles are in title case, which misleads the model.)
"""

from __future__ import annotations

from rag.nlp import shared_parser

MAX_EXAMPLES = 4
TEMPLATES = {
    "PERSON": "Who is {}?",
    "ORG": "What did {} announce?",
    "GPE": "What happened in {}?",
    "LOC": "What happened in {}?",
    "FAC": "What is new about {}?",
    "EVENT": "What happened at {}?",
    "NORP": "What is reported about the {}?",
}


def example_questions(openings: list[str], limit: int = MAX_EXAMPLES) -> list[str]:
    """One question per article opening (the first ``limit`` that yield one)."""
    questions: list[str] = []
    for doc in shared_parser().parse(openings):
        question = _question(doc)
        if question and question not in questions:
            questions.append(question)
        if len(questions) == limit:
            break
    return questions


def _question(doc) -> str | None:
    for entity in doc.ents:
        if entity.label_ in TEMPLATES:
            return TEMPLATES[entity.label_].format(entity.text)
    chunks = [c for c in doc.noun_chunks if c.root.pos_ in ("NOUN", "PROPN") and len(c) > 1]
    if chunks:
        return f"What is reported about {chunks[0].text.removeprefix('The ').removeprefix('the ')}?"
    return None
