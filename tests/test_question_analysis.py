"""What a question asks for, and which spans of a sentence could answer it (spaCy, no embeddings)."""

from __future__ import annotations

import pytest

from rag.nlp import shared_parser
from rag.question import analyse
from rag.spans import candidates, describe, span_features


def question(text: str):
    return analyse(shared_parser()(text))


@pytest.mark.parametrize(
    ("text", "wh", "head"),
    [
        ("Who is Northfield United's new head coach?", "who", ""),
        ("When did the footbridge open?", "when", ""),
        ("In which year did the footbridge open?", "when", "year"),
        ("How many residents were told to leave?", "how_many", ""),
        ("How much did the bridge cost?", "how_much", ""),
        ("How long is the bridge?", "how_measure", ""),
        ("Which river does the bridge cross?", "which", "river"),
        ("What did the researchers replace cobalt with?", "what", ""),
        ("Why are cyclists not allowed on the bridge at weekends?", "why", ""),
        ("Where did Almeida coach before?", "where", ""),
        ("Name the journal that published the work.", "other", ""),
    ],
)
def test_the_class_of_a_question_comes_from_its_wh_phrase(text, wh, head):
    analysed = question(text)
    assert (analysed.wh, analysed.head) == (wh, head)


def test_why_and_how_questions_want_an_explanation_not_a_short_answer():
    assert not question("Why did the coach leave?").wants_short_answer
    assert question("Who replaced the coach?").wants_short_answer


def test_names_and_numbers_of_the_question_are_kept_for_coverage_checks():
    analysed = question("Did Sofia Almeida sign a contract worth 3 million euros?")
    assert "almeida" in " ".join(analysed.names)
    assert analysed.numbers == ("3",)


def test_candidates_are_entities_noun_phrases_and_numbers_with_offsets_into_the_sentence():
    sentence = "The new footbridge across the Rhône in Lyon opened on 14 March 2024 and cost 42 million euros."
    found = {c.text: c for c, _ in candidates(shared_parser()(sentence))}
    assert {"Lyon", "14 March 2024", "42 million euros"} <= found.keys()
    assert found["14 March 2024"].label == "TIME"
    for candidate in found.values():
        assert sentence[candidate.start : candidate.end] == candidate.text


def test_a_candidate_that_repeats_the_question_is_marked_as_such():
    asked = question("When did the footbridge in Lyon open?")
    doc = shared_parser()("The footbridge in Lyon opened on 14 March 2024.")
    features = {c.text: span_features(asked, doc, span, c.label) for c, span in candidates(doc)}
    assert features["Lyon"]["inside_question"] == 1.0
    assert features["14 March 2024"]["inside_question"] == 0.0
    assert features["14 March 2024"]["when×TIME"] == 1.0
    assert features["14 March 2024"]["after_anchor"] == 1.0


def test_the_question_records_which_word_its_wh_phrase_fills_a_slot_of():
    asked = question("What did the visits encourage?")
    assert asked.role == "dobj"
    assert asked.governor and "encourag".startswith(asked.governor[:7])
    assert question("What has the city been interdependent with?").role == "with:pobj"


def test_the_candidate_filling_the_asked_slot_of_the_same_word_is_marked():
    asked = question("What did the visits encourage?")
    doc = shared_parser()("The visits to his country brought support to the movement and encouraged a growing fervour.")
    features = {c.text: f for c, f in describe(asked, doc)}
    assert features["growing fervour"].get("same_governor×same_role") == 1.0
    assert not features["support"].get("same_governor")


def test_candidates_are_compared_with_the_others_of_their_sentence():
    asked = question("Who coaches Northfield United?")
    sentence = "Sofia Almeida, who coaches Northfield United, signed on, her agent Marco Bianchi said in Lisbon."
    doc = shared_parser()(sentence)
    features = {c.text: f for c, f in describe(asked, doc)}
    closest = [text for text, f in features.items() if f.get("distance_closest") == 1.0]
    assert closest == ["Sofia Almeida"]  # "Northfield United" repeats the question: no rival
    assert features["Lisbon"]["distance_over_closest"] > 0
    assert "distance_closest" not in features["Northfield United"]


def test_a_negated_question_is_marked_so_and_its_terms_weigh_their_rarity():
    assert question("Which river does the bridge not cross?").negated
    assert not question("Which river does the bridge cross?").negated
    rare = analyse(shared_parser()("Which river does the bridge cross?"), lambda words: {w: 0.25 for w in words})
    assert rare.weight("river") == 0.25
    assert question("Which river does the bridge cross?").weight("river") == 1.0  # unknown rarity: all weigh alike
