"""What the answer model reads (rag.evidence): features of the question and of its best-ranked sentences."""

from __future__ import annotations

import math

import pytest

from rag.answer import sentence_inputs
from rag.answer_model import LinearModel
from rag.conversation import Query
from rag.evidence import answerable_features, gather
from rag.nlp import shared_parser
from rag.rerank import Reranker
from rag.similarity import VectorCache
from rag.text import terms
from tests.conftest import FAKE
from tests.test_rerank import general_candidates

COACH = "Who is Northfield United's new head coach?"

RERANKER = Reranker(VectorCache(FAKE))  # the fake model's reranker, shared: it only caches vectors


def evidence_for(question: str, history=(), depth: int = 8):
    query = Query.build(question, history)
    return gather(shared_parser(), query, RERANKER.score(query, general_candidates()), depth)


def test_the_question_is_analysed_as_the_conversation_resolved_it():
    history = [("Who left the club in January?", "She replaces Mark Hughes, who left in January. [1]")]
    evidence = evidence_for("Why did he leave?", history)
    assert evidence.question.text == "Why did Mark Hughes leave?"
    assert evidence.question.wh == "why"
    assert "mark hughes" in evidence.question.names


def test_only_the_best_ranked_sentences_are_read_in_rank_order():
    evidence = evidence_for(COACH, depth=3)
    assert [s.rank for s in evidence.sentences] == [0, 1, 2]
    assert [s.features["rank"] for s in evidence.sentences] == [math.log1p(r) for r in range(3)]
    scores = [s.scored.score for s in evidence.sentences]
    assert scores == sorted(scores, reverse=True)


def test_a_sentence_holding_every_word_of_the_question_covers_it_fully():
    features = {s.scored.sentence.text: s.features for s in evidence_for(COACH).sentences}
    answer = next(f for text, f in features.items() if text.startswith("Northfield United have named"))
    assert answer["terms_in_sentence"] == answer["terms_in_passage"] == 1.0
    assert answer["numbers_in_passage"] == 1.0  # the question has no numbers to miss
    assert all(f["terms_in_sentence"] <= 1.0 for f in features.values())
    assert min(f["terms_in_passage"] for f in features.values()) < 1.0  # other articles miss words


def test_candidate_spans_are_verbatim_parts_of_their_sentence():
    for sentence in evidence_for("When did the footbridge open?").sentences:
        text = sentence.scored.sentence.text
        assert sentence.spans  # every sentence of these articles names something
        for candidate, features in sentence.spans:
            assert text[candidate.start : candidate.end] == candidate.text
            assert features[f"label:{candidate.label}"] == 1.0


def test_sentence_inputs_compare_each_sentence_with_the_questions_best():
    evidence = evidence_for(COACH)
    rows = sentence_inputs(evidence, LinearModel({"label:PERSON": 3.0}, -1.0))
    for name in ("score", "meaning", "wording", "best_span"):
        assert max(row[f"{name}_gap"] for row in rows) == 0.0
        assert all(row[f"{name}_gap"] == pytest.approx(row[name] - max(r[name] for r in rows)) for row in rows)


def test_answerable_features_describe_the_best_sentence_and_its_margin():
    evidence = evidence_for(COACH)
    best, second = evidence.sentences[:2]
    features = answerable_features(evidence.question, [(best, 0.9, 0.7), (second, 0.6, 0.2)])
    assert features["p_sentence"] == 0.9 and features["p_span"] == 0.7
    assert features["margin"] == pytest.approx(0.3)
    assert features["wh:who"] == 1.0
    assert features["score"] == best.scored.score
    assert features["missing_terms"] == pytest.approx(
        math.log1p(len(evidence.question.terms) * (1 - best.features["terms_in_passage"]))
    )
    assert answerable_features(evidence.question, [(best, 0.9, 0.7)])["margin"] == 0.9  # no runner-up


def test_a_rare_question_word_missing_from_the_best_passage_weighs_more_than_a_common_one():
    """An unanswerable question often differs from the text by one rare word (here "goalkeeping")."""
    query = Query.build("Who is Northfield United's new goalkeeping coach?")
    best = RERANKER.score(query, general_candidates())[:1]

    def features_with(rarity):
        evidence = gather(shared_parser(), query, best, 1, lambda words: {w: rarity(w) for w in words})
        return answerable_features(evidence.question, [(evidence.sentences[0], 0.9, 0.7)]), evidence

    plain, evidence = features_with(lambda word: 1.0)
    passage = set(terms(best[0].sentence.chunk.page_content))
    missing = [t for t in evidence.question.terms if t not in passage]
    assert "goalkeep" in missing
    assert plain["rare_missing_in_passage"] == pytest.approx(len(missing) / len(evidence.question.terms))
    rare, _ = features_with(lambda word: 1.0 if word == "goalkeep" else 0.1)
    assert rare["rare_missing_in_passage"] > plain["rare_missing_in_passage"]
    assert rare["rarest_missing_in_passage"] == 1.0
    common, _ = features_with(lambda word: 0.1 if word == "goalkeep" else 1.0)
    assert common["rarest_missing_in_passage"] == pytest.approx(max([0.1] + [1.0 for t in missing if t != "goalkeep"]))
    assert plain["negation_mismatch"] == float(bool(evidence.sentences[0].features["negated"]))
