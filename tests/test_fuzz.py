"""Fuzzing (hypothesis, bounded): any question string and any file bytes end in a result or a clear error.

"Clear error" means one of the project's :class:`RagError` subclasses, whose message is for the user;
anything else (a ``UnicodeEncodeError`` from deep inside Chroma, an ``IndexError``) is a crash.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag import Assistant, RagError, Settings
from rag.errors import InvalidInput
from rag.loading import load_article

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

questions = st.one_of(
    st.text(max_size=300),  # any Unicode, including control characters and combining marks
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),  # "binary" pasted as text
    st.sampled_from(["Who is Pakistan's envoy to the UN?", "Кто", "तालिबान", "?", "\u202e", "a" * 1999]).flatmap(
        lambda q: st.text(max_size=20).map(lambda noise: q + noise)
    ),
)
histories = st.lists(st.tuples(st.text(max_size=60), st.text(max_size=120)), max_size=3)


@pytest.mark.slow
@FUZZ
@given(question=questions, history=histories)
def test_any_question_gets_an_answer_or_a_clear_error(seeded, question, history):
    try:
        answer = seeded.ask(question, history)
    except RagError as problem:
        assert str(problem)
        return
    assert answer.abstained != bool(answer.citations)  # an answer cites, an abstention does not
    for c in answer.citations:  # whatever was asked, quotes are still verbatim file text
        assert seeded.article(c.source).text[c.start : c.end] == c.quote


ARTICLE_START = b"Harbour News\n\nThe harbour reopened on Monday after repairs. "
contents = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8")),
    st.text(max_size=500).map(lambda t: t.encode("utf-16")),  # with a BOM
    st.binary(max_size=300).map(lambda b: ARTICLE_START + b),  # a good start, then anything
)


@FUZZ
@given(raw=contents)
def test_any_file_bytes_load_or_raise_a_clear_error(tmp_path, raw):
    path = tmp_path / "fuzzed.txt"
    path.write_bytes(raw)
    try:
        article = load_article(path, 10_000)
    except InvalidInput as problem:
        assert "fuzzed.txt" in str(problem)
        return
    for paragraph in article.paragraphs:
        for start, end in paragraph:
            assert article.text[start:end].strip() == article.text[start:end] != ""


@pytest.fixture(scope="module")
def fuzz_assistant(tmp_path_factory) -> Assistant:
    root = tmp_path_factory.mktemp("fuzz-ingest")
    return Assistant(Settings(data_dir=root / "data", corpus=[root / "articles"]))


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(files=st.lists(contents, min_size=1, max_size=3))
def test_any_files_ingest_to_a_report_and_the_index_stays_usable(fuzz_assistant, files):
    corpus = Path(fuzz_assistant.settings.corpus[0])
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir()
    (corpus / "anchor.txt").write_bytes(ARTICLE_START + b"Boats went back to sea.\n")
    for n, raw in enumerate(files):
        (corpus / f"fuzzed-{n}.txt").write_bytes(raw)
    report = fuzz_assistant.ingest(progress=False)
    assert report.files + len(report.errors) + len(report.notes) == len(files) + 1
    assert all(any(f"fuzzed-{n}.txt" in e for n in range(len(files))) for e in report.errors)
    assert fuzz_assistant.store.count() >= 1
    answer = fuzz_assistant.ask("When did the harbour reopen?")
    assert not answer.abstained and "The harbour reopened on Monday" in answer.answer
