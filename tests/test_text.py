"""The word-level helpers retrieval and answering share: folding, content words, follow-up cues."""

from __future__ import annotations

import pytest

from rag.conversation import needs_history
from rag.text import FULL_NAME, fold, terms


def test_fold_ignores_case_accents_and_apostrophe_style():
    assert fold("Chargé d’Affaires") == fold("charge d'affaires") == "charge d'affaires"


def test_terms_are_the_content_words_without_stop_words_or_possessives():
    assert terms("What did Pakistan's envoy say about the talks?") == terms("pakistan envoy talks")
    assert "pakistan" in terms("Pakistan’s envoy")  # a curly apostrophe too
    assert terms("What is it about?") == []


def test_an_acronym_in_capitals_is_never_a_stop_word():
    assert terms("What did the WHO say about it?") == ["who"]  # the organisation, not the pronoun
    assert terms("Who said it?") == []


@pytest.mark.parametrize(("one", "other"), [("meeting", "meet"), ("claims", "claim"), ("countries", "country")])
def test_inflected_forms_share_a_term(one, other):
    assert terms(one) == terms(other)


def test_words_ending_in_double_s_keep_their_last_letter():
    assert terms("class") == ["class"]


def test_a_full_name_is_two_or_more_capitalised_words_with_their_particles():
    found = FULL_NAME.findall("The envoy met Sofia Almeida and Ludwig van Beethoven in Lyon.")
    assert found == ["Sofia Almeida", "Ludwig van Beethoven"]


@pytest.mark.parametrize(
    ("question", "leans"),
    [
        ("What did she say about the budget?", True),  # a pronoun
        ("And the bridge?", True),  # a continuation
        ("What about the contract?", True),
        ("Why?", True),  # too short to stand alone
        ("Who is Northfield United's new head coach?", False),
        ("When did the footbridge in Lyon open?", False),
    ],
)
def test_needs_history_tells_a_follow_up_from_a_standalone_question(question, leans):
    assert needs_history(question) is leans


def test_fold_of_plain_ascii_is_its_lower_case():
    import string
    import unicodedata

    assert fold(string.printable) == unicodedata.normalize("NFKD", string.printable).lower()
