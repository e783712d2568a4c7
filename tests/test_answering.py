"""The extractive answerer (rag.answer) and the whole pipeline on four small articles, with the fake model.

The unit tests give the answerer hand-written models (``AnswerModel`` is three linear models over
named features), so each rule shows on its own; the last tests ask ``Assistant`` end to end with
the committed answer model, on articles it was never fitted on.
"""

from __future__ import annotations

import pytest

from rag.answer import ExtractiveAnswerer, decide
from rag.answer_model import AnswerModel, LinearModel
from rag.conversation import Query
from rag.evidence import Evidence, gather
from rag.nlp import shared_parser
from rag.question import analyse
from rag.rerank import Reranker, candidates
from tests.conftest import FAKE, GENERAL, write
from tests.test_rerank import chunks, general_candidates

COACH = "Who is Northfield United's new head coach?"
SURE = LinearModel({}, 5.0)  # P ≈ 0.99 whatever the features
DOUBTFUL = LinearModel({}, -5.0)


def model(sentence: LinearModel = SURE, answerable: LinearModel = SURE, span_threshold: float = 0.5) -> AnswerModel:
    spans = LinearModel({"label:PERSON": 6.0}, -3.0)  # a person: P ≈ 0.95; anything else: P ≈ 0.05
    return AnswerModel(spans, sentence, answerable, threshold=0.5, span_threshold=span_threshold)


def evidence_for(question: str, sentences=None) -> Evidence:
    query = Query.build(question)
    return gather(shared_parser(), query, Reranker(FAKE).score(query, sentences or general_candidates()), 8)


def test_nothing_retrieved_is_an_abstention():
    question = analyse(shared_parser()("Who won?"))
    decision = decide(Evidence(question, []), model())
    assert (decision.chosen, decision.short, decision.answerable) == ([], None, 0.0)


def test_below_the_threshold_the_answerer_abstains_but_still_shows_its_ranking():
    decision = decide(evidence_for(COACH), model(answerable=DOUBTFUL))
    assert decision.chosen == [] and decision.short is None
    assert decision.answerable < 0.5
    assert len(decision.ranked) == 8


def test_the_sentence_model_picks_the_evidence():
    by_wording = LinearModel({"wording": 20.0}, -2.0)
    decision = decide(evidence_for(COACH), model(sentence=by_wording))
    best = max(evidence_for(COACH).sentences, key=lambda s: s.scored.wording)
    assert decision.chosen[0] == best.scored
    probabilities = [p for _, p, _ in decision.ranked]
    assert probabilities == sorted(probabilities, reverse=True)


def test_further_evidence_must_be_near_the_best_and_likely_itself():
    evidence = evidence_for(COACH)
    assert len(decide(evidence, model(sentence=LinearModel({}, 0.0))).chosen) == 8  # all P = 0.5: all kept
    assert len(decide(evidence, model(sentence=LinearModel({}, -1.0))).chosen) == 1  # all P < 0.5: the best only


def test_the_short_answer_is_the_likeliest_candidate_as_a_span_of_the_file():
    evidence = evidence_for("Who is the club's chairman?")
    short = decide(evidence, model(sentence=LinearModel({"wording": 20.0}, -2.0))).short
    assert short is not None and short.text == "Peter Walsh" and short.source == "football.txt"
    assert (GENERAL / "football.txt").read_text(encoding="utf-8")[short.start : short.end] == short.text


def test_no_short_answer_when_no_candidate_is_likely_enough_or_the_question_asks_why():
    assert decide(evidence_for(COACH), model(span_threshold=0.99)).short is None
    decision = decide(evidence_for("Why are cyclists not allowed on the bridge at weekends?"), model())
    assert decision.chosen and decision.short is None


def test_select_drops_near_duplicates_and_keeps_at_most_max_sentences(corpus):
    repeated = "The harbour reopened on Monday after two months of repairs."
    write(corpus, "a.txt", f"Harbour news\n\n{repeated}\nFishermen said the new quay at the harbour was wider.\n")
    write(corpus, "b.txt", f"Port report\n\n{repeated}\nThe harbour master thanked the builders for their work.\n")
    sentences = candidates(chunks(corpus / "a.txt") + chunks(corpus / "b.txt"))
    query = Query.build("When did the harbour reopen?")
    scored = Reranker(FAKE).score(query, sentences)
    every = model(sentence=LinearModel({}, 0.0))  # P = 0.5 for each: all four are evidence

    def select(max_sentences: int) -> list[str]:
        answerer = ExtractiveAnswerer(Reranker(FAKE), every, shared_parser(), max_sentences=max_sentences)
        return [s.sentence.text for s in answerer.select(query, scored).chosen]

    assert select(4).count(repeated) == 1 and len(select(4)) == 3
    assert len(select(2)) == 2


# End to end: Assistant with the fake model and the committed answer model.


def test_a_name_question_is_answered_from_the_right_article(fake_general):
    answer = fake_general.ask(COACH)
    assert not answer.abstained
    assert answer.citations[0].source == "football.txt"
    assert "Sofia Almeida" in answer.answer


def test_every_quote_is_verbatim_text_of_its_file(fake_general):
    for question in (COACH, "When did the footbridge open?", "How many residents were told to leave?"):
        answer = fake_general.ask(question)
        assert answer.citations, question
        for citation in answer.citations:
            text = (GENERAL / citation.source).read_text(encoding="utf-8")
            assert text[citation.start : citation.end] == citation.quote


def test_ranking_puts_the_asked_about_article_first(fake_general):
    for question, source in [
        ("How long is the footbridge in Lyon?", "bridge.txt"),
        ("Which metal did the Leeds researchers replace?", "lab.txt"),
        ("How many residents were told to leave their homes?", "volcano.txt"),
    ]:
        assert fake_general.ranked(question)[0].sentence.source == source
        assert fake_general.search(question)[0].metadata["source"] == source


def test_a_follow_up_about_he_finds_the_person_the_last_answer_named(fake_general):
    first = fake_general.ask("Who is the club's chairman?")
    assert "Peter Walsh" in first.answer
    follow_up = fake_general.ranked("What did he say?", history=[(first.question, first.answer)])
    assert follow_up[0].sentence.text.startswith("The club's chairman, Peter Walsh, said")


@pytest.mark.parametrize("question", ["Who won the 2022 FIFA World Cup?", "What is a good recipe for banana bread?"])
def test_a_question_the_articles_do_not_answer_abstains(fake_general, question):
    answer = fake_general.ask(question)
    assert answer.abstained and answer.citations == [] and answer.short_answer is None
