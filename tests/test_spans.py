"""Candidate short answers inside a sentence (rag.spans), and the features that describe each (spaCy only)."""

from __future__ import annotations

import math

from rag.nlp import shared_parser
from rag.question import analyse
from rag.spans import MAX_TOKENS, candidates, span_features

LONG = (
    "The talks were hosted by Qatar in Doha, the capital of the small Gulf country that borders Saudi Arabia "
    "and the sea, last week."
)


def found(sentence: str) -> dict:
    return {c.text: (c, span) for c, span in candidates(shared_parser()(sentence))}


def features(question: str, sentence: str) -> dict[str, dict[str, float]]:
    asked, doc = analyse(shared_parser()(question)), shared_parser()(sentence)
    return {c.text: span_features(asked, doc, span, c.label) for c, span in candidates(doc)}


def test_noun_phrases_lose_their_determiner_and_each_span_is_offered_once():
    spans = found("The council approved the treaty on Friday after 3 votes.")
    assert {"council", "treaty", "Friday", "3"} <= spans.keys()
    assert "the treaty" not in spans and "The council" not in spans
    positions = [(c.start, c.end) for c, _ in spans.values()]
    assert len(positions) == len(set(positions))


def test_an_entity_keeps_its_label_group_and_phrases_stay_short():
    spans = found(LONG)
    assert spans["Qatar"][0].label == spans["Saudi Arabia"][0].label == "PLACE"
    assert spans["last week"][0].label == "TIME"
    assert all(len(span) <= MAX_TOKENS for _, span in spans.values())


def test_a_candidate_next_to_the_questions_words_is_nearer_than_one_far_away():
    described = features("Which country hosted the talks?", LONG)
    assert described["Qatar"]["distance"] < described["Saudi Arabia"]["distance"]
    assert described["Qatar"]["no_anchor"] == 0.0
    assert described["Qatar"]["head:country×PLACE"] == 1.0  # "which country": learned per head noun and label


def test_a_sentence_sharing_no_word_with_the_question_gives_no_anchor():
    described = features("Which country hosted the talks?", "Rain fell on Monday.")
    assert described.keys() >= {"Rain", "Monday"}
    assert all(f["no_anchor"] == 1.0 and f["distance"] == 0.0 and f["near"] == 0.0 for f in described.values())


def test_a_number_the_question_names_is_flagged_and_the_span_length_is_logged():
    described = features("What happened after 3 votes?", "The council approved the treaty after 3 votes.")
    assert described["3"]["number_in_question"] == 1.0
    assert described["treaty"]["number_in_question"] == 0.0
    assert described["3 votes"]["length"] == math.log1p(2)
