"""What an article says about itself: title, date, outlet, URL and author.

News is about *when* and *who reported it*, so ingest reads, in this order of precedence:

1. YAML front matter (``---`` … ``---`` at the very top; keys ``title``, ``date``, ``outlet`` or its
   alias ``source``, ``url``, ``author``), parsed by PyYAML;
2. leading header lines (``Title:``, ``Date:``, ``Outlet:``/``Source:``, ``URL:``, ``Author:``);
3. when neither gives a date, a date written in the first lines of the text ("February 11, 2025",
   "11 Feb 2025", "2025-02-11"), recognised by ``python-dateutil``.

The front matter and header block are not article text: :attr:`Meta.body_start` is where the
article itself begins, and nothing before it is indexed. Offsets stay offsets into the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import yaml
from dateutil import parser as dateparser

KEYS = {"title": "title", "date": "date", "outlet": "outlet", "source": "outlet", "url": "url", "author": "author"}
DATE_LINES = 5  # non-empty lines of the body searched for a date when no header gives one
MAX_VALUE_CHARS = 500  # a header value longer than this is text, not metadata
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
_HEADER = re.compile(r"^[ \t]*(title|date|outlet|source|url|author)[ \t]*:[ \t]*(\S.*?)\s*$", re.IGNORECASE)
# Candidates only: dateutil decides whether each one really is a date.
_WRITTEN_DATE = re.compile(
    r"\b(\d{4}-\d{1,2}-\d{1,2}"  # 2025-02-11
    r"|[A-Z][a-z]{2,8}\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"  # February 11, 2025 / Feb. 11 2025
    r"|\d{1,2}(?:st|nd|rd|th)? [A-Z][a-z]{2,8}\.?,? \d{4})\b"  # 11 February 2025
)


class MetadataError(ValueError):
    """Metadata that is there but unusable (a front matter that is not YAML, a date that is not one)."""


@dataclass(frozen=True)
class Meta:
    title: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None
    body_start: int = 0  # offset of the first character of article text (after front matter and headers)

    def fields(self) -> dict[str, str | int]:
        """Chroma metadata for every chunk: only what is known (Chroma stores no nulls).

        ``day`` is the date as the integer YYYYMMDD, because Chroma's ``where`` compares numbers only.
        """
        found: dict[str, str | int] = {}
        if self.date is not None:
            found["date"] = self.date.isoformat()
            found["day"] = day_number(self.date)
        if self.outlet:
            found["outlet"] = self.outlet
            found["outlet_key"] = outlet_key(self.outlet)
        if self.url:
            found["url"] = self.url
        if self.author:
            found["author"] = self.author
        return found


def day_number(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def outlet_key(outlet: str) -> str:
    """Outlets match whatever their case and spacing: "Tolo News" == "tolo  news"."""
    return " ".join(outlet.split()).casefold()


def read_meta(text: str) -> Meta:
    """The metadata of an article's text; raise :class:`MetadataError` for a front matter or date that is bad."""
    values: dict[str, str] = {}
    start = 0
    front = _FRONT_MATTER.match(text)
    if front:
        values.update(_front_matter(front.group(1)))
        start = front.end()
    start = _headers(text, start, values)
    date = parse_date(values["date"]) if "date" in values else None
    if "date" in values and date is None:
        raise MetadataError(f"date {values['date']!r} is not a date (write it like 2025-02-11)")
    if date is None:
        date = _date_in_first_lines(text, start)
    return Meta(
        title=values.get("title"),
        date=date,
        outlet=values.get("outlet"),
        url=_url(values.get("url")),
        author=values.get("author"),
        body_start=start,
    )


def parse_date(value: str) -> dt.date | None:
    """A calendar date from text ("2025-02-11", "11 Feb 2025", "February 11, 2025"); None if it is not one."""
    try:
        return dateparser.parse(value, default=dt.datetime(1, 1, 1)).date() if _full_date(value) else None
    except (ValueError, OverflowError):
        return None


def _full_date(value: str) -> bool:
    """A day, a month and a year: "2025" or "February" alone would be guessed into a false date."""
    try:
        first = dateparser.parse(value, default=dt.datetime(1, 1, 1))
        second = dateparser.parse(value, default=dt.datetime(2, 2, 2))
    except (ValueError, OverflowError):
        return False
    return first.date() == second.date()


def _front_matter(block: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where is not None else ""
        raise MetadataError(f"the front matter between the --- lines is not valid YAML{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError("the front matter between the --- lines must be `key: value` lines")
    values: dict[str, str] = {}
    for key, value in data.items():
        name = KEYS.get(str(key).strip().lower())
        if name is None or value is None or name in values:
            continue
        if isinstance(value, dt.datetime | dt.date):  # YAML reads 2025-02-11 as a date itself
            value = value.isoformat()
        if not isinstance(value, str | int | float):
            raise MetadataError(f"front matter `{key}` must be text, not a {type(value).__name__}")
        values[name] = _value(str(value), key)
    return values


def _headers(text: str, start: int, values: dict[str, str]) -> int:
    """Read ``Key: value`` lines from ``start`` (blank lines before them are skipped); return where they end."""
    position = start
    end = start
    for line in text[start:].splitlines(keepends=True):
        if not line.strip():
            position += len(line)
            if end > start:  # a blank line closes the header block
                return position
            continue
        match = _HEADER.match(line)
        if match is None:
            break
        name = KEYS[match.group(1).lower()]
        values.setdefault(name, _value(match.group(2), match.group(1)))
        position += len(line)
        end = position
    return end if end > start else start


def _value(value: str, key: object) -> str:
    value = " ".join(value.split())
    if len(value) > MAX_VALUE_CHARS:
        raise MetadataError(f"`{key}` is {len(value)} characters long; metadata values are at most {MAX_VALUE_CHARS}")
    return value


def _url(value: str | None) -> str | None:
    """Only web addresses become links (a ``javascript:`` URL would run in the reader's page)."""
    if value is None:
        return None
    if not re.match(r"https?://[^\s/]", value, re.IGNORECASE):
        raise MetadataError(f"url {value!r} is not a web address (http:// or https://)")
    return value


def _date_in_first_lines(text: str, start: int) -> dt.date | None:
    lines = [line for line in text[start:].splitlines() if line.strip()][:DATE_LINES]
    for line in lines:
        for match in _WRITTEN_DATE.finditer(line):
            date = parse_date(match.group(1))
            if date is not None:
                return date
    return None
