"""Odd files in a corpus: a name that is not UTF-8, one name in two folders, a FIFO, a moved article.

Every problem is about one file, named printably; the good files of the same batch are indexed.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from rag import InvalidInput
from tests.conftest import write
from tests.servers import RAG

pytestmark = pytest.mark.slow  # the real model and the `rag` CLI

NEWS = {
    "harbour.txt": "Harbour Reopens\n\nThe harbour of Velmora reopened on Monday after the storm closed three piers.\n",
    "bridge.txt": "Bridge Vote\n\nThe council of Dunmere voted 7 to 2 to rebuild the old stone bridge by 2028.\n",
    "school.txt": "School Opens\n\nA new school for 400 pupils opened in Arkley, the education office said.\n",
}
BAD_NAME = b"bad\xff\xfename.txt"
BAD_SHOWN = r"bad\xff\xfename.txt"


def make_bad_name(folder) -> None:
    fd = os.open(os.path.join(os.fsencode(folder), BAD_NAME), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"Bad Name\n\nThe mayor of Oskel opened a library with 9000 books.\n")
    os.close(fd)


def fill(folder) -> None:
    for name, text in NEWS.items():
        write(folder, name, text)


def test_a_file_name_that_is_not_utf8_is_refused_by_name_and_the_good_files_are_indexed(assistant, corpus):
    fill(corpus)
    make_bad_name(corpus)
    report = assistant.ingest(progress=False)
    assert report.files == len(NEWS)
    assert [e for e in report.errors if BAD_SHOWN in e] == [
        f"{corpus}/{BAD_SHOWN}: the file name is not valid UTF-8; rename it (e.g. `convmv -f latin1 -t utf8 FILE`), "
        "skipped"
    ]
    assert assistant.ask("How many pupils does the new school in Arkley take?").citations[0].source == "school.txt"


def test_the_same_file_name_in_two_folders_gives_two_sources_and_two_article_pages(assistant, corpus):
    for folder, text in (("a", NEWS["harbour.txt"]), ("b", NEWS["bridge.txt"])):
        (corpus / folder).mkdir()
        write(corpus / folder, "report.txt", text)
    write(corpus, "school.txt", NEWS["school.txt"])
    assert assistant.ingest(progress=False).files == 3
    answer = assistant.ask("How did the council of Dunmere vote on the stone bridge?")
    cited = answer.citations[0]
    assert cited.source == "b/report.txt"
    article = assistant.article(cited.source)
    assert article.text == NEWS["bridge.txt"] and article.text[cited.start : cited.end] == cited.quote
    assert assistant.article("a/report.txt").text == NEWS["harbour.txt"]
    assert assistant.ask("How many pupils does the new school in Arkley take?").citations[0].source == "school.txt"


def test_a_file_named_directly_keeps_its_bare_name(assistant, corpus):
    (corpus / "deep" / "er").mkdir(parents=True)
    path = write(corpus / "deep" / "er", "bridge.txt", NEWS["bridge.txt"])
    assistant.ingest([path], progress=False)
    assert assistant.ask("How did the council of Dunmere vote on the stone bridge?").citations[0].source == "bridge.txt"


def test_a_fifo_is_not_a_regular_file_and_does_not_block_the_ingest(assistant, corpus):
    fill(corpus)
    os.mkfifo(corpus / "pipe.txt")
    report = assistant.ingest(progress=False)  # opening the FIFO would wait for a writer forever
    assert report.files == len(NEWS)
    assert report.errors == [f"{corpus}/pipe.txt: not a regular file (a FIFO, socket or device), skipped"]
    named = assistant.ingest([corpus / "pipe.txt"], progress=False)
    assert named.errors == [f"{corpus}/pipe.txt: not a regular file (a FIFO, socket or device), skipped"]


def test_a_moved_article_is_reported_without_the_machine_s_paths(assistant, corpus, tmp_path):
    fill(corpus)
    assistant.ingest(progress=False)
    (corpus / "bridge.txt").rename(tmp_path / "elsewhere.txt")
    with pytest.raises(InvalidInput) as missing:
        assistant.article("bridge.txt")
    assert (
        str(missing.value)
        == "bridge.txt: the article file cannot be read (cannot read (No such file or directory)); ingest it again"
    )
    assert str(tmp_path) not in str(missing.value)


def test_the_cli_names_each_bad_file_and_exits_1_when_the_rest_is_indexed(tmp_path, corpus):
    fill(corpus)
    make_bad_name(corpus)
    os.mkfifo(corpus / "pipe.txt")
    result = subprocess.run(
        [RAG, "ingest", "--data-dir", str(tmp_path / "data"), str(corpus)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr
    assert f"error: {corpus}/{BAD_SHOWN}: the file name is not valid UTF-8" in result.stderr
    assert f"error: {corpus}/pipe.txt: not a regular file" in result.stderr
    assert result.stdout.startswith(f"{len(NEWS)} files,") and "Traceback" not in result.stderr


def test_a_closed_pipe_ends_rag_ask_quietly(seeded):
    """`rag ask --json ... | head`: the reader went away; no BrokenPipeError traceback, exit code 141."""
    ask = [RAG, "ask", "--json", "--data-dir", str(seeded.settings.data_dir), "Who is Pakistan's envoy to the UN?"]
    process = subprocess.Popen(ask, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # like `head` that has read its lines and exited
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 141
    assert stderr.decode() == ""
