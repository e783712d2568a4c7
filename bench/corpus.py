"""A synthetic news corpus of any size, built from the seed articles, with facts planted to check answers.

    .venv/bin/python bench/corpus.py 1000 /tmp/corpus-1000     # writes 1000 .txt files + facts.jsonl

Each article recombines sentences of the seed articles: the people named in them are swapped for
other people of the seeds, the numbers changed, the order shuffled, so the text reads like the news
the assistant is built for and retrieval has realistic near-duplicates to tell apart. Each article
also carries one planted fact about an invented town ("The mayor of Velmora is Dario Kestrin, ...")
that no other article states, with the question it answers, so the benchmark can count correct
answers at any size. Files are written one at a time: memory stays flat whatever N is.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.loading import load_article  # noqa: E402
from rag.nlp import shared_parser  # noqa: E402
from rag.text import FULL_NAME  # noqa: E402

SEEDS = ROOT / "seeds"
FACTS_FILE = "facts.jsonl"
_NUMBER = re.compile(r"\b\d[\d,]*\b")
_MONTH_BEFORE = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December) $")
_SYLLABLES = """ka ve lo ra mi den tor sa bel qui na ros fen dal mar tis ol vin ash ber cor lun pel gar hes
    mon tal ri zan cas dor em fal wen""".split()  # noqa: SIM905
_FIRST_NAMES = """Dario Amina Tomas Leila Farid Noor Ivan Sana Karim Elena Yusuf Mira Omar Hana Pavel Zara Idris
    Lina Rustam Selin Bilal Nadia Arman Dina Kamal Rosa Tariq Yara Emil Sofia""".split()  # noqa: SIM905
_TEMPLATES = (  # (sentence planted in the article, question, answer to find in the reply)
    ("The mayor of {town} is {person}, who took office after the {year} local election.",
     "Who is the mayor of {town}?", "{person}"),
    ("{person} heads the {town} water authority, which serves the whole valley.",
     "Who heads the {town} water authority?", "{person}"),
    ("The {town} harbour festival drew {count} visitors this year, organisers said.",
     "How many visitors did the {town} harbour festival draw?", "{count}"),
)  # fmt: skip


@dataclass(frozen=True)
class Fact:
    source: str  # file name of the article that states it
    question: str
    answer: str
    town: str = ""  # the invented place it is about: named in no other article


def seed_material() -> tuple[list[str], list[str], list[str]]:
    """(sentences, titles, people) of the seed articles."""
    sentences, titles, people = [], [], set()
    for path in sorted(SEEDS.glob("*.txt")):
        article = load_article(path, max_bytes=10_000_000)
        titles.append(article.title)
        for paragraph in article.paragraphs[1:]:
            for span in paragraph:
                text = article.sentence(span)
                if len(text.split()) >= 6 and text[-1] in ".”\"'":
                    sentences.append(text)
                    people.update(_people(text))
    return sentences, titles, sorted(people)


def generate(folder: Path, n: int, seed: int = 0) -> list[Fact]:
    """Write ``n`` articles into ``folder`` (created) and ``facts.jsonl`` beside them; return the facts."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sentences, titles, people = seed_material()
    towns, surnames = _unique_words(rng), _unique_words(rng, 2)
    facts = []
    with open(folder / FACTS_FILE, "w", encoding="utf-8") as facts_file:
        for number in range(n):
            name = f"article_{number:05d}.txt"
            text, fact = _article(rng, name, sentences, titles, people, next(towns), next(surnames))
            (folder / name).write_text(text, encoding="utf-8")
            facts_file.write(json.dumps(asdict(fact)) + "\n")
            facts.append(fact)
    return facts


def read_facts(folder: Path) -> list[Fact]:
    lines = (folder / FACTS_FILE).read_text(encoding="utf-8").splitlines()
    return [Fact(**json.loads(line)) for line in lines if line]


def _article(rng: random.Random, name: str, sentences, titles, people, town: str, surname: str) -> tuple[str, Fact]:
    swap = dict(zip(people, rng.sample(people, len(people)), strict=True))  # same person swapped the same way
    body = [_recombine(s, swap, rng) for s in rng.sample(sentences, rng.randint(12, 24))]
    template, question, answer = _TEMPLATES[rng.randrange(len(_TEMPLATES))]
    values = {
        "town": town,
        "person": f"{rng.choice(_FIRST_NAMES)} {surname}",
        "year": rng.randint(1995, 2024),
        "count": f"{rng.randint(2, 90) * 1000 + rng.randint(1, 999):,}",
    }
    body.insert(rng.randint(1, len(body)), template.format(**values))
    paragraphs, at = [], 0
    while at < len(body):
        size = rng.randint(1, 3)
        paragraphs.append(" ".join(body[at : at + size]))
        at += size
    title = f"{rng.choice(titles)} ({town})"
    text = "\n\n".join([title, *paragraphs]) + "\n"
    return text, Fact(name, question.format(**values), answer.format(**values), town)


def _people(text: str) -> list[str]:
    """Two-word person names the named-entity model finds: the ones swapped between articles."""
    return [e.text for e in shared_parser()(text).ents if e.label_ == "PERSON" and len(e.text.split()) == 2]


def _recombine(sentence: str, swap: dict[str, str], rng: random.Random) -> str:
    sentence = FULL_NAME.sub(lambda m: swap.get(m.group(), m.group()), sentence)
    return _NUMBER.sub(lambda m: _other_number(m, rng), sentence)


def _other_number(match: re.Match, rng: random.Random) -> str:
    number = match.group()
    if _MONTH_BEFORE.search(match.string[: match.start()]):  # "October 4" stays a real date
        return number
    digits = number.replace(",", "")
    if len(digits) == 4 and digits.startswith(("19", "20")):  # a year stays a plausible year
        return str(rng.randint(1990, 2025))
    value = rng.randint(10 ** (len(digits) - 1) if len(digits) > 1 else 1, 10 ** len(digits) - 1)
    return f"{value:,}" if "," in number else str(value)


def _unique_words(rng: random.Random, syllables: int = 3) -> Iterator[str]:
    """Endless invented words ("Velmora"), never the same twice in one generator."""
    seen: set[str] = set()
    length = syllables
    while True:
        for _ in range(1000):
            word = "".join(rng.choice(_SYLLABLES) for _ in range(length)).capitalize()
            if word not in seen:
                seen.add(word)
                yield word
                break
        else:
            length += 1  # this length is used up: make longer words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of articles")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    facts = generate(args.folder, args.n, args.seed)
    print(f"{len(facts)} articles and {FACTS_FILE} written to {args.folder}")


if __name__ == "__main__":
    main()
