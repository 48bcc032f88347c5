"""Normalisation for matching: traditional → simplified, full-width → half-width, whitespace folding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.normalize import compact, fold_width, normalize_for_matching, to_simplified


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("山東省新基建三年行動方案", "山东省新基建三年行动方案"),
        ("魯政字〔2020〕228號", "鲁政字〔2020〕228号"),
        ("信息基礎設施建設行動", "信息基础设施建设行动"),
        ("加快5G商用。優化5G基站布局", "加快5G商用。优化5G基站布局"),
        ("數據中心", "数据中心"),
    ],
)
def test_traditional_to_simplified(traditional: str, simplified: str) -> None:
    assert to_simplified(traditional) == simplified
    # simplified text is left alone
    assert to_simplified(simplified) == simplified


@pytest.mark.parametrize(
    ("full", "half"),
    [
        ("２０２１", "2021"),
        ("ＡＢＣｘｙｚ", "ABCxyz"),
        ("（一）", "(一)"),
        ("，：；！？", ",:;!?"),
        ("５Ｇ基站１１．２万个", "5G基站11.2万个"),
        ("ＰＵＥ值低于１．２５", "PUE值低于1.25"),
    ],
)
def test_full_width_to_half_width(full: str, half: str) -> None:
    assert fold_width(full) == half


def test_normalize_for_matching_combines_all_steps() -> None:
    assert normalize_for_matching("  山東省\u3000５Ｇ\n\n\t網絡  ") == "山东省 5g 网络"
    assert normalize_for_matching("魯政字〔２０２０〕228號") == "鲁政字[2020]228号"
    assert normalize_for_matching("2021—2023年") == "2021-2023年"
    assert normalize_for_matching("IPv6 规模部署") == "ipv6 规模部署"
    assert normalize_for_matching("") == ""
    assert normalize_for_matching(" \n\u3000\t ") == ""


def test_compact_drops_all_whitespace() -> None:
    assert compact("淄政办字\n〔2021〕 78号") == "淄政办字[2021]78号"
    assert compact("山東 省") == compact("山东省") == "山东省"


def test_simplified_traditional_and_full_width_variants_meet() -> None:
    variants = ["山东省新基建行动方案的文号", "山東省新基建行動方案的文號", "山东省新基建行动方案的文号　"]
    assert len({normalize_for_matching(v) for v in variants}) == 1
    assert normalize_for_matching("５Ｇ基站") == normalize_for_matching("5G基站") == "5g基站"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_for_matching_is_idempotent_and_total(text: str) -> None:
    once = normalize_for_matching(text)
    assert isinstance(once, str)
    assert normalize_for_matching(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert compact(once) == compact(text)


CJK_MIX = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),  # CJK compatibility ideographs
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width ASCII
        st.characters(min_codepoint=0x3000, max_codepoint=0x303F),  # CJK punctuation
        st.sampled_from(" \t\n\u3000\xa0—〔〕"),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(CJK_MIX)
def test_normalize_for_matching_is_idempotent_on_chinese_text(text: str) -> None:
    once = normalize_for_matching(text)
    assert normalize_for_matching(once) == once
    assert not any(0xFF01 <= ord(ch) <= 0xFF5E for ch in once), "no full-width ASCII survives"


@pytest.mark.parametrize(
    "written",
    [
        "苏政发〔2022〕31号",
        "苏政发[2022]31号",
        "苏政发（2022）31号",
        "苏政发【2022】31号",
        "苏政发2022年31号",
        "蘇政發〔2022〕第31號",
    ],
)
def test_a_document_number_matches_however_its_year_is_bracketed(written: str) -> None:
    assert compact(written) == compact("苏政发〔2022〕31号")


@pytest.mark.parametrize("text", ["到2022年3号线通车", "2022年5月3号", "苏州2022年31号地块"])
def test_text_that_is_no_document_number_is_left_alone(text: str) -> None:
    assert compact(text) == text
