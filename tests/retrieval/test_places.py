"""Places a text names: English names by their pinyin (read from the bilingual dictionary's readings of the
gazetteer), and which Chinese words are names at all."""

from __future__ import annotations

import pytest

from retrieval.places import english_place_names, place_names


def test_a_city_named_in_english_is_read_as_the_chinese_places_written_so() -> None:
    found = dict(english_place_names("How many 5G base stations will Suzhou build by 2022?"))
    assert "苏州" in found["Suzhou"]


def test_possessives_and_several_places_are_read_in_order() -> None:
    found = english_place_names("What do Hangzhou's and Qingdao's plans say about data centres?")
    assert [name for name, _ in found] == ["Hangzhou", "Qingdao"]
    assert "杭州" in dict(found)["Hangzhou"]


def test_english_words_that_are_also_a_place_s_pinyin_are_words() -> None:
    # "Guide" is the pinyin of 贵德 and "Dean" of 德安, but the dictionary reads both as English words
    assert english_place_names("A Guide To The Plan, Written By The Dean Of The School") == []


def test_a_chinese_text_is_left_to_the_chinese_reader() -> None:
    assert english_place_names("苏州要建成多少5G基站？Suzhou") == []


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("我们打算投资数据中心，在用能指标上市里会不会给倾斜？", []),  # 上市 is a verb
        ("新区建设有什么支持？", []),
        ("东市和西市的夜市", []),
        ("莒县的项目和深圳市的政策", ["莒县", "深圳市"]),  # one character before 县 is a county's name
    ],
)
def test_one_character_before_an_administrative_suffix_is_a_word_not_a_name(
    text: str, places: list[str]
) -> None:
    assert place_names(text) == places


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("淄博怎么跟济南、青岛两大城市相处", ["淄博", "济南", "青岛"]),
        ("发挥中心城市的辐射作用", []),
        ("推动中小城市和小城镇发展", []),
    ],
)
def test_a_kind_of_city_is_no_place(text: str, places: list[str]) -> None:
    assert place_names(text) == places
