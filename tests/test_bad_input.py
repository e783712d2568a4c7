"""Bad input gets a clear message naming the problem; the rest of the work completes; nothing indexed is lost.

Questions and histories go through the Python API here (the CLI and HTTP API call the same checks;
their own cases are in test_cli.py and test_hardening_server.py). Files go through a real ingest.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import Assistant, InvalidQuestion, Settings
from rag.errors import InvalidInput
from rag.loading import load_article
from tests.conftest import write

GOOD = "Harbour Reopens After Storm\n\nThe city harbour reopened on Monday after a week of repairs.\n"
KEEP = "Bridge Repairs Finished\n\nThe old bridge over the river opened again on Tuesday after repairs.\n"


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("x" * 100_000, "limit is 2000"),
        ("Who is \x00 the envoy?", "control character U+0000"),
        (bytes(range(256)).decode("latin-1"), "control character U+0000"),
        ("Who is the envoy?\x1b[2J", "control character U+001B"),
        ("Who is the envoy \ud800?", "lone surrogate"),
        (None, "must be a string, not NoneType"),
        (42, "must be a string, not int"),
    ],
)
def test_unusable_questions_raise_a_clear_error(fake_general, question, message):
    with pytest.raises(InvalidQuestion, match=re.escape(message)):
        fake_general.ask(question)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Who is Pakistan's envoy to the UN? पाकिस्तान का राजदूत कौन है? Кто посол? 巴基斯坦大使是谁？ ما هو السفير؟",
        "Who\tis  Pakistan's\n envoy\r\nto the UN?",  # whitespace of every kind is just spacing
        "👋 Who is Pakistan's envoy to the UN? 🇵🇰",
        "Who is Pakistan’s envoy to the UN?\u200b",  # curly apostrophe, zero-width space
    ],
)
def test_mixed_scripts_and_odd_spacing_are_ordinary_questions(seeded, question):
    answer = seeded.ask(question)
    assert answer.abstained != bool(answer.citations)  # an answer cites, an abstention does not
    assert "\n" not in answer.question and "\t" not in answer.question


@pytest.mark.slow
def test_mixed_script_question_still_finds_the_answer(seeded):
    answer = seeded.ask("Who is Pakistan's envoy to the UN? पाकिस्तान")
    assert answer.citations and "Munir Akram" in answer.answer


@pytest.mark.parametrize(
    "history",
    [
        "not a list",
        [["only a question"]],
        [["q", "a", "extra"]],
        [["q", None]],
        [[1, 2]],
        [{"q": "a"}],
        [("Who?", "x\x00y")],
        None,
        {"question": "answer"},
        [["q", "a" * 250_000]],
    ],
)
def test_malformed_history_raises_a_clear_error(fake_general, history):
    with pytest.raises(InvalidQuestion, match="history"):
        fake_general.ask("Who is Pakistan's envoy to the UN?", history)


@pytest.mark.slow
def test_history_as_tuples_or_lists_works(seeded):
    first = seeded.ask("Who is Pakistan's envoy to the UN?")
    follow_up = "What did he claim about ISIS-K?"
    as_tuples = seeded.ask(follow_up, [(first.question, first.answer)])
    assert seeded.ask(follow_up, [[first.question, first.answer]]) == as_tuples
    assert seeded.ask(follow_up, ()) == seeded.ask(follow_up, [])


# Files. Each case: the problem file sits beside a good one in a corpus that already has an indexed
# article; the ingest names the file and its problem, indexes the good one and keeps the old one.


def _latin1(folder: Path) -> str:
    (folder / "latin1.txt").write_bytes(
        "Café Reopens\n\nThe café on the square reopened on Monday.\n".encode("latin-1")
    )
    return "not valid UTF-8"


def _utf16_without_bom(folder: Path) -> str:
    (folder / "utf16.txt").write_bytes(GOOD.replace("city", "town").encode("utf-16-le"))
    return "UTF-16 without a byte-order mark"


def _binary(folder: Path) -> str:
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    return "binary"


def _empty(folder: Path) -> str:
    (folder / "empty.txt").write_bytes(b"")
    return "empty file"


def _whitespace(folder: Path) -> str:
    (folder / "blank.md").write_bytes(b"\n \t\r\n\n")
    return "empty file"


def _huge(folder: Path) -> str:
    with open(folder / "huge.txt", "wb") as sparse:  # 50 MB in an instant: a sparse file
        sparse.truncate(50 * 1024 * 1024)
    return "larger than the 5000000-byte limit"


def _symlink_outside(folder: Path) -> str:
    outside = folder.parent / "private"
    outside.mkdir()
    secret = write(outside, "secret.txt", "Secret Memo\n\nThe password for the server room is swordfish.\n")
    (folder / "link.txt").symlink_to(secret)
    return "outside"


def _truncated_utf16(folder: Path) -> str:
    (folder / "cut.txt").write_bytes(codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le")[:-1])
    return "not valid UTF-16"


BAD_FILES = {
    "latin1.txt": _latin1,
    "utf16.txt": _utf16_without_bom,
    "binary.txt": _binary,
    "empty.txt": _empty,
    "blank.md": _whitespace,
    "huge.txt": _huge,
    "link.txt": _symlink_outside,
    "cut.txt": _truncated_utf16,
}


@pytest.fixture
def indexed(tmp_path, corpus) -> Assistant:
    """An assistant whose index already holds ``keep.txt``."""
    write(corpus, "keep.txt", KEEP)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus=[corpus]))
    assert assistant.ingest(progress=False).files == 1
    return assistant


def indexed_sources(assistant: Assistant) -> set[str]:
    return {Path(p).name for p in assistant.store.chunks_per_path()}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_named_and_skipped_and_the_rest_is_ingested(indexed, corpus, name):
    message = BAD_FILES[name](corpus)
    write(corpus, "good.txt", GOOD)
    report = indexed.ingest(progress=False)
    problems = [e for e in report.errors if name in e]
    assert len(problems) == 1 and message in problems[0], report.errors
    assert report.files == 2
    assert indexed_sources(indexed) == {"keep.txt", "good.txt"}
    assert not any("swordfish" in t for t in indexed.store.sentence_vectors.get(include=["documents"])["documents"])


@pytest.mark.slow
def test_utf16_with_a_byte_order_mark_is_read(indexed, corpus):
    for name, encoding in [("le.txt", "utf-16-le"), ("be.txt", "utf-16-be")]:
        (corpus / name).write_bytes(codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE)
        with open(corpus / name, "ab") as file:
            file.write(GOOD.replace("city", f"{name[:2]} city").encode(encoding))
    report = indexed.ingest(progress=False)
    assert report.errors == [] and report.files == 3
    article = load_article(corpus / "le.txt", 10_000)
    assert article.title == "Harbour Reopens After Storm" and "le city harbour" in article.text
    answer = indexed.ask("When did the le city harbour reopen?")
    assert answer.citations[0].source in {"le.txt", "be.txt"}
    cited = indexed.article(answer.citations[0].source)  # offsets index the decoded text
    assert cited.text[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].quote


@pytest.mark.slow
def test_the_same_text_under_two_names_is_indexed_once(indexed, corpus):
    write(corpus, "harbour.txt", GOOD)
    write(corpus, "harbour-copy.txt", GOOD)
    report = indexed.ingest(progress=False)
    assert report.errors == [] and report.files == 2
    kept, skipped = corpus.resolve() / "harbour-copy.txt", corpus.resolve() / "harbour.txt"  # sorted order
    assert report.notes == [f"{skipped}: same text as {kept}; indexed once, as harbour-copy.txt"]
    assert indexed_sources(indexed) == {"keep.txt", "harbour-copy.txt"}


@pytest.mark.slow
def test_a_duplicate_ingested_later_on_its_own_is_recognised(indexed, corpus, tmp_path):
    elsewhere = tmp_path / "inbox"
    elsewhere.mkdir()
    copy = write(elsewhere, "bridge.txt", KEEP)
    report = indexed.ingest([copy], progress=False)
    assert report.files == 0 and "same text as" in report.notes[0] and "keep.txt" in report.notes[0]
    assert indexed_sources(indexed) == {"keep.txt"}


@pytest.mark.slow
def test_an_unreadable_file_is_named_and_keeps_its_indexed_chunks(indexed, corpus):
    """chmod 000 and a real `rag ingest`; as root it runs without the capabilities that bypass permissions."""
    command = [str(Path(sys.executable).parent / "rag"), "ingest", "--data-dir", str(indexed.settings.data_dir)]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: file permissions would not stop the read")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    write(corpus, "good.txt", GOOD)
    keep = corpus / "keep.txt"
    before = indexed.store.count()
    keep.chmod(0)
    try:
        result = subprocess.run([*command, str(corpus)], capture_output=True, text=True, timeout=600)
    finally:
        keep.chmod(0o644)
    assert result.returncode == 1, result.stderr  # partial: good.txt is in, keep.txt is named
    assert "keep.txt: cannot read (Permission denied)" in result.stderr
    assert result.stdout.startswith("1 files, ")
    assert indexed_sources(indexed) == {"keep.txt", "good.txt"}
    assert indexed.store.count() > before  # keep.txt's chunks stayed, good.txt's were added


def test_a_file_refused_by_load_article_names_itself(corpus):
    path = corpus / "nul.md"
    path.write_bytes(b"Title\n\nText with a \x00 inside.\n")
    with pytest.raises(InvalidInput, match=r"nul\.md: contains NUL bytes"):
        load_article(path, 10_000)
