"""Fields read from plain text without front matter: title line, issuer, 文号, date, period, places, level."""

from __future__ import annotations

from retrieval.documents import parse_document
from retrieval.metadata import MAX_TITLE_CHARS, infer_fields
from retrieval.places import canonical_place, document_places, issuing_level, place_names

NOTICE = """青岛市人民政府办公厅关于印发青岛市数字经济促进行动方案(2024-2026年)的通知
青政办字〔2024〕12号
各区、市人民政府，市政府各部门，各直属机构：
《青岛市数字经济促进行动方案(2024-2026年)》已经市政府同意，现印发给你们，请认真组织实施。
青岛市人民政府办公厅
2024年3月5日
一、总体要求
到2026年，全市数字经济核心产业增加值占比达到15%。
"""


def test_a_notice_without_front_matter_gets_its_real_fields() -> None:
    document = parse_document(NOTICE.encode(), "qingdao.txt")
    assert document.title == "青岛市数字经济促进行动方案(2024-2026年)"
    assert document.metadata["notice_title"].startswith("青岛市人民政府办公厅关于印发")
    assert document.issuer == "青岛市人民政府办公厅"
    assert document.doc_number == "青政办字〔2024〕12号"
    assert document.published == "2024-03-05"
    assert document.period == "2024-2026"
    assert document.places == ("青岛",) and document.jurisdiction == "city"


def test_a_title_is_never_a_paragraph() -> None:
    paragraph = "各有关单位：" + "为进一步做好相关工作，现就有关事项通知如下，请认真贯彻执行。" * 20
    document = parse_document(paragraph.encode(), "some-page.txt")
    assert document.title == "some-page"
    long_first_line = "关于" + "加强" * 80 + "的通知\n正文。"
    assert len(parse_document(long_first_line.encode(), "x.txt").title) <= MAX_TITLE_CHARS


def test_a_wrapped_traditional_title_and_its_signature() -> None:
    text = "關于印發江蘇省新基建行動方案\n(2021-2023年)的通知\n蘇政發〔2021〕3號\n各市人民政府:\n正文。\n江蘇省人民政府\n2021年1月8日\n"
    fields = infer_fields(text)
    assert fields.title == "江蘇省新基建行動方案(2021-2023年)"
    assert fields.doc_number == "蘇政發〔2021〕3號"  # quoted as written
    assert fields.issuer == "江蘇省人民政府" and fields.published == "2021-01-08"
    assert fields.places == ("江苏",) and fields.jurisdiction == "province"


def test_front_matter_wins_over_what_the_text_says() -> None:
    text = "---\ntitle: 自定标题\nissuer: 某某局\nplaces: [济南市]\n---\n" + NOTICE
    document = parse_document(text.encode(), "x.md")
    assert (document.title, document.issuer, document.places) == ("自定标题", "某某局", ("济南",))


def test_places_and_levels_come_from_the_gazetteer() -> None:
    assert canonical_place("淄博市") == "淄博" and canonical_place("山東省") == "山东"
    assert document_places("东营市人民政府", "") == ("东营",)
    assert issuing_level("国务院办公厅", "") == "national"
    assert issuing_level("济南市历下区人民政府", "") == "city"
    # ordinary words jieba's dictionary tags as places are not places
    assert place_names("新建5G基站要扎堆吗，两城沾边") == []
    assert place_names("What does the Qingdao plan say?") in ([], ["青岛"])  # only via the glossary
