"""English words read as the library's Chinese words (retrieval.bilingual), against libraries written here."""

from __future__ import annotations

import pytest

from bot.evidence import ALTERNATIVES, _compute_term_weights, coverage, salient_terms
from retrieval import bilingual
from retrieval.bilingual import _invert, chinese_terms, is_english

# a small library of another subject than the shipped corpus: the dictionary is general, the filter is the library
LIBRARY = {
    "带宽",
    "港口",
    "物流",
    "补贴",
    "养老金",
    "数据中心",
    "物联网",
    "社会保障",
    "社会",
    "保障",
    "人工智能",
}


def known(word: str) -> bool:
    return word in LIBRARY


def flat(groups: list[tuple[str, ...]]) -> set[str]:
    return {word for group in groups for word in group}


@pytest.mark.skipif(bilingual.dictionary_path() is None, reason="dictionary package not installed")
class TestPackagedDictionary:
    def test_phrases_before_words(self) -> None:
        # "social security" is one entry (社会保障), not 社会 + 保障 read word by word
        assert chinese_terms("How is social security funded?", known) == [("社会保障",)]
        assert ("物联网",) in chinese_terms("Which internet of things projects are planned?", known)

    @pytest.mark.parametrize(
        "question",
        [
            "What bandwidth does the port need?",
            "Which bandwidth targets are set for ports?",
            "bandwidth of the port's terminals, please",
        ],
    )
    def test_inflections_and_wordings(self, question: str) -> None:
        assert {"带宽", "港口"} <= flat(chinese_terms(question, known))

    def test_neighbouring_words_join_into_a_library_word(self) -> None:
        # "data center" is no entry; 数据 + 中心 is a word of this library
        assert ("数据中心",) in chinese_terms("Where will the new data centers be built?", known)

    @pytest.mark.parametrize(
        ("question", "words"),
        [
            # an adjective is read through the noun it is made from
            ("Which industrial parks get a subsidy?", {"工业", "园区", "补贴"}),
            ("What agricultural logistics hubs are planned?", {"农业", "物流"}),
            ("What scientific facilities are funded?", {"科学", "设施"}),
            # British spellings through American ones, a singular through the dictionary's plural
            ("Which organisation runs the data centres?", {"组织", "数据中心"}),
            ("Is there a facility for pension payments?", {"设施", "养老金"}),
        ],
    )
    def test_derived_words_spellings_and_unread_phrases(self, question: str, words: set[str]) -> None:
        # "industrial park" is one entry (工业园区) this library does not write: its words are read one by one
        library = LIBRARY | {"工业", "园区", "农业", "科学", "设施", "组织", "中心", "数据"}
        assert words <= flat(chinese_terms(question, library.__contains__))

    def test_only_words_the_library_uses(self) -> None:
        words = flat(chinese_terms("Is there a subsidy for pension and artificial intelligence?", known))
        assert words == {"补贴", "养老金", "人工智能"}

    @pytest.mark.parametrize(
        "text",
        ["淄博 MEMS 研发平台", "5G基站和IPv6改造有什么要求？", "PUE 1.3", "", "ok"],
    )
    def test_chinese_text_and_short_names_are_left_alone(self, text: str) -> None:
        assert chinese_terms(text, lambda _w: True) == []

    def test_an_english_question_gets_the_library_words_as_answer_terms(self) -> None:
        weights = _compute_term_weights(["港口物流的带宽要求", "养老服务机构补贴标准", "氢能产业示范"])
        vocabulary = {
            "港口",
            "物流",
            "带宽",
            "要求",
            "养老",
            "服务",
            "机构",
            "补贴",
            "标准",
            "氢能",
            "产业",
            "示范",
        }
        terms = salient_terms(
            "What bandwidth do port logistics need?", weights, vocabulary, split_compounds=True
        )
        unit_text = "港口物流的带宽要求"
        assert any("带宽" in term.split(ALTERNATIVES) for term in terms)
        assert coverage(terms, unit_text) == 1.0
        assert coverage(terms, "养老服务机构补贴标准") == 0.0


def test_is_english() -> None:
    assert is_english("Which departments are responsible for 5G?")
    assert not is_english("负责5G的部门有哪些？ which")
    assert not is_english("MEMS 研发平台")


def test_invert_reads_cc_cedict_lines() -> None:
    lines = [
        "# comment",
        "算力 算力 [suan4 li4] /computing power/hash rate (digital currency mining)/",
        "港口 港口 [gang3 kou3] /port; harbor/",
        "淄博 淄博 [Zi1 bo2] /Zibo, prefecture-level city in Shandong/",
        "囗 囗 [wei2] /variant of 圍|围/",
        "建立 建立 [jian4 li4] /to establish/to set up/",
    ]
    mapping = _invert(lines)
    assert mapping["computing power"] == ("算力",)
    assert mapping["hash rate"] == ("算力",)
    assert mapping["port"] == ("港口",) and mapping["harbor"] == ("港口",)
    assert mapping["zibo"] == ("淄博",)
    assert mapping["set up"] == ("建立",) and mapping["establish"] == ("建立",)
    assert not any("variant" in phrase for phrase in mapping)


def test_no_dictionary_means_no_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bilingual, "_dictionary", lambda: {})
    assert chinese_terms("What bandwidth do ports need?", known) == []
