"""Hybrid retrieval and reranking: exact names by keywords, paraphrases by meaning, Hindi by a multilingual model."""

from __future__ import annotations

import pytest

from rag import Assistant, Settings
from tests.conftest import write

HINDI_ARTICLE = "001_7f241891985e0e26.txt"


def variant(seeded: Assistant, **changes) -> Assistant:
    """Another configuration over the same seeded index."""
    return Assistant(seeded.settings.model_copy(update=changes))


@pytest.fixture
def two_articles(assistant, corpus) -> Assistant:
    write(
        corpus,
        "harbour.txt",
        "Harbour works\n\nThe ferry operator Zelinskaya Marine said the new pier opened on Monday. "
        "Boats now dock within minutes of arriving.\n",
    )
    write(
        corpus,
        "storm.txt",
        "Storm damage\n\nHeavy rain flooded the valley and washed away two bridges. "
        "Villagers were cut off from the nearest town for three days.\n",
    )
    assistant.ingest(progress=False)
    return assistant


def top_source(assistant: Assistant, question: str) -> str:
    return assistant.search(question)[0].metadata["source"]


@pytest.mark.slow
def test_keyword_search_finds_a_rare_name(two_articles):
    bm25 = Assistant(two_articles.settings.model_copy(update={"retriever": "bm25"}))
    assert top_source(bm25, "What did Zelinskaya say?") == "harbour.txt"


@pytest.mark.slow
def test_dense_search_finds_a_paraphrase_that_shares_no_words(two_articles):
    dense = Assistant(two_articles.settings.model_copy(update={"retriever": "dense"}))
    assert top_source(dense, "Which crossings did the downpour destroy?") == "storm.txt"


@pytest.mark.slow
def test_hybrid_search_finds_both(two_articles):
    assert top_source(two_articles, "What did Zelinskaya say?") == "harbour.txt"
    assert top_source(two_articles, "Which crossings did the downpour destroy?") == "storm.txt"


@pytest.mark.slow
def test_keyword_search_follows_the_index_when_another_process_changes_it(two_articles, corpus):
    reader = Assistant(two_articles.settings.model_copy(update={"retriever": "bm25"}))  # e.g. a running server
    assert top_source(reader, "What did Zelinskaya say?") == "harbour.txt"

    write(corpus, "harbour.txt", "Harbour works\n\nThe operator Quillfeather Lines took over the ferries today.\n")
    two_articles.ingest(progress=False)
    assert top_source(reader, "Who is Quillfeather?") == "harbour.txt"
    assert reader.search("What did Zelinskaya say?") == []

    (corpus / "harbour.txt").unlink()
    two_articles.ingest(progress=False)
    assert reader.search("Who is Quillfeather?") == []


@pytest.mark.slow
def test_the_keyword_index_is_saved_by_ingest_and_reused_by_the_next_process(two_articles, corpus):
    saved = two_articles.settings.data_dir / f"bm25-{two_articles.settings.collection}.npz"
    assert saved.exists()  # built at the end of the ingest, so the first question does not wait
    built_at = saved.stat().st_mtime_ns

    later = Assistant(two_articles.settings.model_copy(update={"retriever": "bm25"}))  # e.g. `rag ask`
    assert top_source(later, "What did Zelinskaya say?") == "harbour.txt"
    assert saved.stat().st_mtime_ns == built_at  # loaded, not built again

    two_articles.ingest(progress=False)  # nothing changed: nothing to rebuild
    assert saved.stat().st_mtime_ns == built_at

    write(corpus, "storm.txt", "Storm damage\n\nThe Ottervale dam held through the night.\n")
    two_articles.ingest(progress=False)
    assert saved.stat().st_mtime_ns != built_at
    fresh = Assistant(two_articles.settings.model_copy(update={"retriever": "bm25"}))
    assert top_source(fresh, "What about Ottervale?") == "storm.txt"


@pytest.mark.slow
def test_switching_every_search_off_retrieves_nothing_and_abstains(seeded):
    silent = variant(seeded, top_k=0, top_sentences=0)
    assert silent.search("Who is Pakistan's envoy to the UN?") == []
    assert silent.ask("Who is Pakistan's envoy to the UN?").abstained


@pytest.mark.slow
def test_reranking_puts_the_passage_holding_the_answer_first(seeded):
    passages = seeded.search("How many Shia worshippers died in the recent mosque attack?")
    assert "46 people" in passages[0].page_content


@pytest.mark.slow
def test_a_hindi_question_is_answered_from_the_article_with_hindi_text(seeded):
    answer = seeded.ask("मस्जिद पर हुए हमले में कितने लोग मारे गए?")  # how many died in the mosque attack?
    assert not answer.abstained
    assert answer.citations[0].source == HINDI_ARTICLE
    assert "46" in answer.answer


@pytest.mark.slow
def test_without_the_multilingual_model_that_hindi_question_is_not_understood(seeded):
    english_only = variant(seeded, multilingual_model="none")
    answer = english_only.ask("मस्जिद पर हुए हमले में कितने लोग मारे गए?")
    assert answer.abstained or "46" not in answer.answer


@pytest.mark.slow
def test_an_unrelated_hindi_question_is_not_answered(seeded):
    assert seeded.ask("भारत में सबसे लंबी नदी कौन सी है?").abstained  # which is the longest river in India?


def test_an_unknown_retriever_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="hybrid"):
        Settings(retriever="telepathy")
