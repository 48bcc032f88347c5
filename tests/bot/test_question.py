"""Reading what a question asks for: places named in it."""

from __future__ import annotations

from bot.question import analyze, place_names


def test_place_names_from_the_dictionary() -> None:
    assert place_names("北京每个5G基站补贴多少钱？") == ["北京"]
    assert place_names("构筑西靠济南东连青岛的发展格局是哪条原则里的") == ["济南", "青岛"]


def test_words_that_name_no_place_are_not_places() -> None:
    assert place_names("城市公共数字底座要重点建设什么设施？") == []
    assert place_names("东部和西部、城乡之间怎么协调？") == []


def test_analysis_reads_places_and_years() -> None:
    analysis = analyze("淄博2025年的5G基站数量是多少？")
    assert analysis.places == ("淄博",) and analysis.years == (2025,) and analysis.wants_quantity
