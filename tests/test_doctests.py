"""The examples in docstrings (``>>>``) run and show what they say: a stale example fails here."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest

from tests.conftest import REPO

EXAMPLE = re.compile(r"^\s*>>> ", re.MULTILINE)
WITH_EXAMPLES = sorted(
    ".".join(path.relative_to(REPO).with_suffix("").parts)
    for folder in ("rag", "ui")
    for path in (REPO / folder).rglob("*.py")
    if EXAMPLE.search(path.read_text(encoding="utf-8"))
)


def test_the_package_has_examples_to_run():
    assert WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_pass(name):
    results = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0
    assert results.failed == 0
