"""Reading article files: titles, cleaning that keeps offsets, and clear errors for bad files."""

import random
from pathlib import Path

import pytest

from rag.errors import InvalidInput
from rag.loading import find_files, load_article
from rag.sentences import _one_sentence, split_sentences, syntok_spans
from tests.conftest import SEEDS, write

LIMIT = 1_000_000


def test_title_is_the_first_non_empty_line(corpus):
    path = write(corpus, "a.txt", "\n\n   Big  News Today  \n\nBody sentence one. Body two.\n")
    assert load_article(path, LIMIT).title == "Big News Today"


def test_repeated_lines_are_dropped_but_offsets_still_point_into_the_file(corpus):
    text = "Headline\n\nHeadline\nFirst fact is here. Second fact too.\nFirst fact is here. Second fact too.\n"
    article = load_article(write(corpus, "a.txt", text), LIMIT)
    sentences = [article.sentence(span) for paragraph in article.paragraphs for span in paragraph]
    assert sentences == ["Headline", "First fact is here.", "Second fact too."]
    for paragraph in article.paragraphs:
        for start, end in paragraph:
            assert text[start:end] == article.sentence((start, end))


def test_seed_with_repeated_headline_keeps_one_copy():
    article = load_article(SEEDS / "002_663675794b460625.txt", LIMIT)
    kept = [article.sentence(p[0]) for p in article.paragraphs]
    assert kept.count(article.title) == 1


def test_hindi_text_is_read_and_split():
    article = load_article(SEEDS / "001_7f241891985e0e26.txt", LIMIT)
    hindi = article.sentence(article.paragraphs[1][0])
    assert "तालिबान" in hindi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "Mr. Smith met Dr. Jones in the U.S. capital. Then left.",
            ["Mr. Smith met Dr. Jones in the U.S. capital.", "Then left."],
        ),
        ('He said, "We will act." The end.', ['He said, "We will act."', "The end."]),
        ("It cost $2.3 billion. Aid rose.", ["It cost $2.3 billion.", "Aid rose."]),
        ("Paul K. Bekken spoke. Fine.", ["Paul K. Bekken spoke.", "Fine."]),
        ("Talks began. Élodie Martin spoke.", ["Talks began.", "Élodie Martin spoke."]),
        ("He left. Дмитрий Песков заявил.", ["He left.", "Дмитрий Песков заявил."]),
        ("यह एक वाक्य है। यह दूसरा है।", ["यह एक वाक्य है।", "यह दूसरा है।"]),
        ("It was 3 p.m. Monday. He left.", ["It was 3 p.m. Monday.", "He left."]),
        ("He left. “Stop,” he said.", ["He left.", "“Stop,” he said."]),
    ],
)
def test_sentence_splitting(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_a_line_read_as_one_sentence_without_syntok_is_split_as_syntok_would():
    """The shortcut for lines with nothing that can end a sentence before their end, against syntok
    itself on lines made of words, names, numbers, scripts and punctuation of every kind."""
    words = (
        "The mayor said Rosa O'Neil US 2024 3,000 e-mail don't café 日本 नमस्ते Москва 🙂 — – - : , "
        "\" “ ” ' ’ / & % $5 #1 @user * + = < > | ~ ^ ` ) ] } » « ... .. . ! ? ; ( [ { … । Mr a.m IV Jan b"
    )
    tokens = words.split(" ")
    endings = ["", ".", "!", "?", '"', "”", ")", ":", ",", ".”", '?"', "...", "…", ";", "(", "-", " ", "\n"]
    rng = random.Random(7)
    lines = [
        " " * rng.randint(0, 1) + " ".join(rng.choices(tokens, k=rng.randint(1, 10))) + rng.choice(endings)
        for _ in range(20_000)
    ]
    shortcut = [line for line in lines if line.strip() and _one_sentence(line.strip())]
    assert len(shortcut) > 2_000  # enough lines took the shortcut to mean something
    assert [split_sentences(line, 7) for line in lines] == [syntok_spans(line, 7) for line in lines]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\t\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("latin1.txt", "Café au lait.".encode("latin-1"), "not valid UTF-8"),
    ],
)
def test_bad_files_raise_a_message_naming_the_file(corpus, name, content, message):
    path = corpus / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as raised:
        load_article(path, LIMIT)
    assert name in str(raised.value) and message in str(raised.value)


def test_oversized_file_is_refused(corpus):
    path = write(corpus, "big.txt", "Word. " * 100)
    with pytest.raises(InvalidInput, match="larger than"):
        load_article(path, 50)


def test_find_files_reports_missing_paths_and_skips_other_types(corpus):
    write(corpus, "a.txt", "A.")
    write(corpus, "b.md", "B.")
    write(corpus, "c.pdf", "C.")
    files, problems = find_files([corpus, Path("no/such/file.txt"), corpus / "c.pdf"])
    assert [f.name for f in files] == ["a.txt", "b.md"]
    assert any("no/such/file.txt" in p and "no such file" in p for p in problems)
    assert any("c.pdf" in p for p in problems)
