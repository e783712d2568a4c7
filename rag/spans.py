"""Candidate short answers inside a sentence, and what makes one a likely answer to a question.

Candidates are the sentence's named entities, noun phrases and numbers (spaCy). Each is described
by general features (``span_features``): which entity label it has for which class of question,
whether it repeats the question (answers add what the question lacks), how close it stands to the
question's words in the sentence, its grammatical role. A fitted model (``rag.answer_model``)
weighs them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from rag.question import Question
from rag.text import terms

# Entity labels grouped by what they answer; a noun phrase with no entity is "THING".
GROUPS = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    "NORP": "NORP",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "DATE": "TIME",
    "TIME": "TIME",
    "CARDINAL": "NUMBER",
    "QUANTITY": "NUMBER",
    "MONEY": "MONEY",
    "PERCENT": "PERCENT",
    "ORDINAL": "ORDINAL",
}
LABELS = ("PERSON", "ORG", "NORP", "PLACE", "TIME", "NUMBER", "MONEY", "PERCENT", "ORDINAL", "OTHER", "THING")
DEPS = ("nsubj", "nsubjpass", "dobj", "pobj", "appos", "attr", "compound", "conj", "npadvmod", "poss", "nummod")
WINDOW = 6  # tokens either side in which the question's words count as "near"
MAX_TOKENS = 12  # longer noun phrases are clauses, not short answers


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence; ``start``/``end`` are character offsets inside the sentence text."""

    text: str
    start: int
    end: int
    label: str  # one of LABELS


def candidates(doc: Doc) -> list[tuple[Candidate, Span]]:
    """Entities, noun phrases and numbers of the sentence, each once (an entity wins over a phrase)."""
    found: dict[tuple[int, int], tuple[Candidate, Span]] = {}
    for ent in doc.ents:
        found[(ent.start_char, ent.end_char)] = (_candidate(ent, GROUPS.get(ent.label_, "OTHER")), ent)
    for chunk in doc.noun_chunks:
        chunk = _trimmed(chunk)
        if chunk is not None and (chunk.start_char, chunk.end_char) not in found:
            found[(chunk.start_char, chunk.end_char)] = (_candidate(chunk, _label_of(chunk)), chunk)
    for token in doc:
        if token.like_num and token.ent_type_ == "" and (token.idx, token.idx + len(token)) not in found:
            span = doc[token.i : token.i + 1]
            found[(span.start_char, span.end_char)] = (_candidate(span, "NUMBER"), span)
    return [c for c in found.values() if len(c[1]) <= MAX_TOKENS]


def _candidate(span: Span, label: str) -> Candidate:
    return Candidate(span.text, span.start_char, span.end_char, label)


def _trimmed(chunk: Span) -> Span | None:
    """The noun phrase without a leading determiner or pronoun ("the treaty" → "treaty")."""
    start = chunk.start
    while start < chunk.end and chunk.doc[start].pos_ in ("DET", "PRON", "PUNCT"):
        start += 1
    return chunk.doc[start : chunk.end] if start < chunk.end else None


def _label_of(chunk: Span) -> str:
    labels = {GROUPS.get(t.ent_type_, "OTHER") for t in chunk if t.ent_type_}
    return labels.pop() if len(labels) == 1 else "THING"


def describe(question: Question, doc: Doc) -> list[tuple[Candidate, dict[str, float]]]:
    """Every candidate of the sentence with its features, including how it compares with the others.

    A short answer is chosen among one sentence's candidates, so what matters is being the closest
    to the question's words or the best fit of its slot *in this sentence*, not in absolute terms.
    """
    found = [(c, span_features(question, doc, span, c.label)) for c, span in candidates(doc)]
    rivals = [f for _, f in found if not f["no_anchor"] and not f["inside_question"]]  # could be the answer
    for name in ("distance", "tree_distance"):
        anchored = [f[name] for f in rivals]
        for features in rivals:
            if anchored:
                features[f"{name}_over_closest"] = features[name] - min(anchored)
                features[f"{name}_closest"] = float(features[name] == min(anchored))
    return found


def span_features(question: Question, doc: Doc, span: Span, label: str) -> dict[str, float]:
    """Named features of one candidate; absent keys are 0 (the model's vocabulary is fixed)."""
    own = set(terms(span.text))
    overlap = len(own & question.terms) / len(own) if own else 1.0
    anchors = [
        t.i for t in doc if (t.i < span.start or t.i >= span.end) and not t.is_punct and _term(t) in question.terms
    ]
    distance = min((min(abs(a - span.start), abs(a - (span.end - 1))) for a in anchors), default=None)
    near = {_term(doc[a]) for a in anchors if span.start - WINDOW <= a < span.end + WINDOW}
    root = span.root
    features = {
        f"{question.wh}×{label}": 1.0,
        f"label:{label}": 1.0,
        "overlap": overlap,
        "inside_question": float(overlap >= 1.0),
        "distance": math.log1p(distance) if distance is not None else 0.0,
        "no_anchor": float(distance is None),
        "near": len(near) / max(len(question.terms), 1),
        "length": math.log1p(len(span)),
        "head_in_question": float(root.head.i != root.i and _term(root.head) in question.terms),
        "after_anchor": float(bool(anchors) and min(anchors) < span.start),
        "appos_anchor": float(
            (root.dep_ == "appos" and _term(root.head) in question.terms)
            or any(c.dep_ == "appos" and _term(c) in question.terms for c in root.children)
        ),
        "number_in_question": float(any(n in span.text for n in question.numbers)),
    }
    dep = root.dep_ if root.dep_ in DEPS else "other"
    features[f"dep:{dep}"] = 1.0
    features[f"{question.wh}×dep:{dep}"] = 1.0
    features[f"{question.wh}×after_anchor"] = features["after_anchor"]
    tree = min((_tree_distance(root, doc[a]) for a in anchors), default=None)
    features["tree_distance"] = math.log1p(tree) if tree is not None else 0.0
    governor = _governor(root)
    if governor is not None:
        term = _term(governor)
        features["governor_in_question"] = float(term in question.terms)
        if question.governor and _same_word(term, question.governor):  # a slot of the word the question asks about
            features["same_governor"] = 1.0
            features["same_governor×same_role"] = float(_role(root) == question.role)
    if question.head:  # "which country": learned per head noun and label (country × PLACE), from data
        features[f"head:{question.head}×{label}"] = 1.0
        features["has_head_noun"] = float(question.head in span.text.lower())
    return features


def _governor(token):
    """The content word a phrase depends on, looking through a preposition ("on *issues*" → "question")."""
    head = token.head
    if head.pos_ == "ADP" and head.head.i != head.i:
        head = head.head
    return None if head.i == token.i else head


def _same_word(a: str, b: str) -> bool:
    """Two forms of one word: equal, or sharing all but the last two letters ("encourage", "encouraged")."""
    shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a == b or (shared >= 4 and shared >= min(len(a), len(b)) - 2)


def _role(token) -> str:
    return f"{token.head.lower_}:{token.dep_}" if token.head.pos_ == "ADP" else token.dep_


def _tree_distance(a, b) -> int:
    """Edges between two tokens in the dependency tree (through their lowest common ancestor)."""
    up = {t.i: depth for depth, t in enumerate([a, *a.ancestors])}
    for depth, t in enumerate([b, *b.ancestors]):
        if t.i in up:
            return up[t.i] + depth
    return len(up) + depth + 1


def _term(token) -> str:
    found = terms(token.text)
    return found[0] if found else ""
