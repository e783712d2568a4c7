"""The citation checker, on fixed model outputs: it is pure, so its rules are tested word for word."""

import pytest

from rag.grounding import Grounder, Passage, SentenceSplitter, ground

PASSAGES = [
    Passage("Pakistan’s UN envoy, Munir Akram, spoke at a UN Security Council session on February 10.", ("a", 0)),
    Passage("Norway’s chargé d’affaires Paul Klouman Bekken met Taliban officials in Kabul.", ("b", 0)),
    Passage("The attack on the Crocus City Hall near Moscow killed 139 people.", ("c", 0)),
]


def test_a_supported_sentence_keeps_its_citation():
    result = ground("Pakistan's UN envoy is Munir Akram [1].", PASSAGES)
    assert result.sentences == ["Pakistan's UN envoy is Munir Akram. [1]"]
    assert result.cited == [0] and result.counts()["dropped"] == 0


def test_a_marker_pointing_to_no_passage_is_removed_and_counted():
    result = ground("The attack near Moscow killed 139 people [3][9].", PASSAGES)
    assert result.text == "The attack near Moscow killed 139 people. [1]"
    assert result.unknown_markers == 1
    assert result.cited == [2]  # passage 3 is renumbered [1]: numbers follow first use


def test_an_invented_figure_is_dropped_even_with_a_marker():
    result = ground("The population of Norway is 1.4 million [2].", PASSAGES)
    assert result.sentences == [] and result.dropped == 1


def test_an_invented_name_is_dropped():
    result = ground("Pakistan's UN envoy is John Smith [1].", PASSAGES)
    assert result.sentences == [] and result.dropped == 1


def test_a_sentence_without_a_marker_is_cited_to_the_passage_that_supports_it():
    result = ground("Paul Klouman Bekken met Taliban officials in Kabul.", PASSAGES)
    assert result.text == "Paul Klouman Bekken met Taliban officials in Kabul. [1]"
    assert result.cited == [1] and result.recited == 1


def test_a_wrong_marker_is_replaced_by_the_supporting_passage():
    result = ground("The Moscow attack killed 139 people [1].", PASSAGES)
    assert result.text == "The Moscow attack killed 139 people. [1]" and result.cited == [2]
    assert result.recited == 1


def test_citations_are_renumbered_densely_and_each_passage_once():
    answer = (
        "Norway's chargé d'affaires Paul Klouman Bekken met Taliban officials [2]. "
        "Bekken met them in Kabul [2]. Munir Akram is Pakistan's UN envoy [1]."
    )
    result = ground(answer, PASSAGES)
    assert [s[-3:] for s in result.sentences] == ["[1]", "[1]", "[2]"]
    assert result.cited == [1, 0]


def test_the_models_refusal_is_recognised_and_not_shown():
    result = ground("NOT FOUND", PASSAGES)
    assert result.sentences == [] and result.refused


def test_filler_without_content_is_skipped_silently():
    result = ground("Sure! Munir Akram is Pakistan's UN envoy [1].", PASSAGES)
    assert result.sentences == ["Munir Akram is Pakistan's UN envoy. [1]"] and result.dropped == 0


def test_meaning_check_drops_a_sentence_the_embeddings_find_unrelated():
    far = Grounder(PASSAGES, similarity=lambda a, b: 0.1)
    assert far.check("Munir Akram is Pakistan's UN envoy [1].") is None
    near = Grounder(PASSAGES, similarity=lambda a, b: 0.9)
    assert near.check("Munir Akram is Pakistan's UN envoy [1].") == "Munir Akram is Pakistan's UN envoy. [1]"


@pytest.mark.parametrize(
    "pieces",
    [["Akram is the envoy. [1] He spoke in New York [2]."], list("Akram is the envoy. [1] He spoke in New York [2].")],
)
def test_streamed_text_is_cut_into_sentences_with_their_trailing_markers(pieces):
    splitter = SentenceSplitter()
    done = [s for piece in pieces for s in splitter.feed(piece)]
    assert done == ["Akram is the envoy. [1]"]
    assert splitter.flush() == ["He spoke in New York [2]."]


def test_list_items_are_sentences_too():
    splitter = SentenceSplitter()
    assert splitter.feed("- Munir Akram [1]\n- Paul Klouman Bekken [2]\n") == [
        "Munir Akram [1]",
        "Paul Klouman Bekken [2]",
    ]


def test_a_sentence_adding_several_words_to_its_passage_is_dropped():
    result = ground(
        "The Taliban's foreign minister Abdul Kabir met Norway's envoy, a member of its delegation [1].",
        [
            Passage(
                "During a meeting with the Norwegian ambassador, Abdul Kabir, the Taliban's deputy prime minister, "
                "highlighted the need for engagement.",
                ("d", 0),
            )
        ],
    )
    assert result.sentences == [] and result.dropped == 1


def test_a_repeated_sentence_is_shown_once():
    assert ground(
        "Munir Akram is Pakistan's UN envoy [1]. Munir Akram is Pakistan's UN envoy [1].", PASSAGES
    ).sentences == ["Munir Akram is Pakistan's UN envoy. [1]"]


def test_saying_the_question_back_is_not_an_answer():
    question = "Which alliance's military chief warned that ISIS endangers Central Asia?"
    passages = [Passage("The CSTO's military chief warned that ISIS endangers Central Asia.", ("e", 0))]
    assert (
        ground(
            "The alliance's military chief warned that ISIS endangers Central Asia [1].", passages, question=question
        ).sentences
        == []
    )
    assert ground(
        "The CSTO's military chief warned that ISIS endangers Central Asia [1].", passages, question=question
    ).sentences == ["The CSTO's military chief warned that ISIS endangers Central Asia. [1]"]


def test_a_sentence_going_round_in_circles_is_dropped():
    passages = [Passage("The Taliban's Foreign Ministry rejected the claims on Saturday.", ("f", 0))]
    answer = (
        "The Taliban's Foreign Ministry rejected the Taliban's Foreign Ministry's rejection "
        "of the Taliban's Foreign Ministry [1]."
    )
    assert ground(answer, passages).sentences == []


def test_a_negation_the_passage_does_not_make_is_dropped():
    passages = [Passage("During a meeting with the Norwegian ambassador, Abdul Kabir highlighted the ties.", ("g", 0))]
    assert ground("Abdul Kabir did not meet with the Norwegian ambassador [1].", passages).sentences == []
    assert ground("Abdul Kabir had a meeting with the Norwegian ambassador [1].", passages).dropped == 0


def test_a_sentence_cut_off_mid_phrase_is_dropped():
    passages = [Passage("The US completed its withdrawal from Afghanistan in August 2021.", ("h", 0))]
    assert ground("The US completed its withdrawal from Afghanistan in. [1]", passages).sentences == []
    assert ground("The US completed its withdrawal from Afghanistan in August 2021. [1]", passages).sentences == [
        "The US completed its withdrawal from Afghanistan in August 2021. [1]"
    ]


def test_a_list_of_bare_names_is_not_an_answer():
    result = ground("- Munir Akram [1]\n- Paul Klouman Bekken [2]\n", PASSAGES)
    assert result.sentences == [] and result.dropped == 2


def test_a_leading_the_passage_label_is_not_shown():
    assert ground("The passage: Munir Akram is Pakistan's UN envoy [1].", PASSAGES).sentences == [
        "Munir Akram is Pakistan's UN envoy. [1]"
    ]
