"""Follow-ups: what the conversation adds to the question just asked (spaCy's named entities, no embeddings)."""

from __future__ import annotations

import pytest

from rag.conversation import Query, contextualize, is_greeting, resolve_person

HUGHES = [("Who left the club in January?", "She replaces Mark Hughes, who left in January after eight defeats. [1]")]
CHAIRMAN = [("Who is the club's chairman?", "The club's chairman, Peter Walsh, said Almeida had signed. [1]")]


@pytest.mark.parametrize("text", ["hi", "Hello there!", "thanks a lot", "Good morning.", "ok"])
def test_small_talk_is_a_greeting(text):
    assert is_greeting(text)


@pytest.mark.parametrize("text", ["Hi, who is the coach?", "Thanks to whom did the bridge open?", "okay what now"])
def test_a_question_that_opens_politely_is_not_a_greeting(text):
    assert not is_greeting(text)


def test_he_or_she_becomes_the_person_a_who_question_was_answered_with():
    assert resolve_person("Where did he go next?", HUGHES) == "Where did Mark Hughes go next?"


def test_a_possessive_becomes_the_persons_name():
    assert resolve_person("Why did he leave his job?", HUGHES) == "Why did Mark Hughes leave Mark Hughes's job?"


def test_after_a_question_about_a_person_the_pronoun_means_that_person_not_one_the_answer_named():
    history = [("What did Dr. Amara Okafor find?", "A cheaper material, said Mark Hughes of the university. [1]")]
    assert resolve_person("When did she publish it?", history) == "When did Amara Okafor publish it?"


def test_a_role_asked_about_is_kept_beside_the_name_articles_may_use_either():
    assert resolve_person("What did he say?", CHAIRMAN) == "What did Peter Walsh, the club's chairman, say?"


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("What did he say?", []),  # no conversation yet
        ("What did he say?", [("When did the bridge open?", "It opened on 14 March 2024 [1].")]),  # nobody named
        ("When did the bridge open?", HUGHES),  # no pronoun
    ],
)
def test_without_a_pronoun_or_a_named_person_the_question_is_unchanged(question, history):
    assert resolve_person(question, history) == question


def test_a_follow_up_is_searched_with_the_last_question_and_the_names_of_its_answer():
    history = [("Who chairs Northfield United?", "Peter Walsh, chairman of Northfield United, said so. [1]")]
    context = contextualize("What did he say about the derby?", history)
    assert context.startswith("What did Peter Walsh say about the derby?")
    assert "Who chairs Northfield United?" in context
    assert context.count("Northfield United") == 2  # the last question, and a name from its answer


def test_a_standalone_question_is_not_pulled_back_to_the_last_turn():
    assert contextualize("When did the footbridge in Lyon open?", HUGHES) == "When did the footbridge in Lyon open?"


def test_a_query_keeps_the_users_words_apart_from_what_the_conversation_filled_in():
    history = [*CHAIRMAN, *HUGHES]
    query = Query.build("What did he do?", history)
    assert query.asked == "What did he do?"
    assert query.standalone == "What did Mark Hughes do?"
    assert query.context.startswith(query.standalone) and HUGHES[0][0] in query.context
    assert query.said == f"{CHAIRMAN[0][1]} {HUGHES[0][1]}"


def test_a_first_question_is_its_own_query():
    query = Query.build("Who designed the bridge?")
    assert query.asked == query.standalone == query.context == "Who designed the bridge?"
    assert query.said == ""
