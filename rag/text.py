"""The words of a text as every stage compares them: folded, stemmed content terms, and names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours tell say said says according many much whose did does anything something thing things please
    happen happened know""".split()  # noqa: SIM905
)

_WORD = re.compile(r"[\w’'-]+")
CAPITALISED = re.compile(r"\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")  # "Lyon", "Sofia Almeida"
FULL_NAME = re.compile(r"\b[A-Z][\w’'-]+(?:\s+(?:[A-Z][\w’'-]+|bin|ur|al|van|von|de))*\s+[A-Z][\w’'-]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes: "chargé d’Affaires" ~ "charge d'affaires"."""
    if text.isascii():  # no accents, no curly apostrophes: most words, and 5x as fast
        return text.lower()
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def terms(text: str) -> list[str]:
    """Content words of ``text``, folded and lightly stemmed, stop words removed.

    A word in capitals is an acronym, never a stop word: "US" is a country, "us" a pronoun.
    """
    return [term for term in map(_term, _WORD.findall(text)) if term]


@lru_cache(maxsize=200_000)
def _term(original: str) -> str:
    """One word's term, or "" for a stop word; words repeat, so each is worked out once."""
    word = fold(original).strip("'-").removesuffix("'s")
    if len(word) < 2 or (word in STOP_WORDS and not original.isupper()):
        return ""
    return _stem(word)


def _stem(word: str) -> str:
    """Crude suffix stripping, enough to match "meeting" with "meet" and "claims" with "claim"."""
    for suffix, replacement in (
        ("ies", "y"),
        ("ions", ""),
        ("ion", ""),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + replacement
    return word
