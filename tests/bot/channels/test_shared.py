"""The parts every chat channel shares: the incoming-text check, access, rate limit and the rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answer import Answer, Citation
from bot.channels import rendering
from bot.channels.conversation import (
    TOO_LONG,
    UNUSABLE,
    Access,
    RateLimiter,
    UnusableText,
    incoming_text,
    parse_ids,
)
from bot.channels.rendering import MarkdownMarkup, Markup, Piece, paginate, utf8_len
from bot.channels.telegram.rendering import HTML, tg_len
from bot.storage.claims import MessageClaims


@pytest.mark.parametrize("text", ["问题\ud800", "\udfff", "问\x00题", "问\x1b[31m题", "\u202e题目"])
def test_incoming_text_refuses_what_the_api_refuses(text: str) -> None:
    with pytest.raises(UnusableText) as caught:
        incoming_text(text)
    assert str(caught.value) == UNUSABLE


def test_incoming_text_strips_and_limits_length() -> None:
    assert incoming_text("  淄博的5G基站？ \n") == "淄博的5G基站？"
    assert incoming_text("👍") == "👍"  # a proper surrogate pair in UTF-16 is one code point here
    with pytest.raises(UnusableText) as caught:
        incoming_text("问" * 11, max_chars=10)
    assert str(caught.value) == TOO_LONG.format(n=11, limit=10)


def test_access_and_ids() -> None:
    assert Access().allows("anyone")
    access = Access(parse_ids("zhangsan, lisi"), parse_ids(["group1"]), parse_ids("boss"))
    assert access.allows("lisi") and access.allows("boss") and access.allows("x", "group1")
    assert not access.allows("x", "group2") and not access.allows(None)
    assert access.is_admin("boss") and not access.is_admin("lisi")
    assert parse_ids("1;2 3", int) == frozenset({1, 2, 3})


def test_rate_limiter_window() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert not limiter.limited("u") and not limiter.limited("u")
    assert limiter.limited("u") and not limiter.limited("other")
    now[0] = 60.0
    assert not limiter.limited("u")
    assert not RateLimiter(0).limited("u")


def _answer(text: str, citations: int = 2) -> Answer:
    return Answer(
        answer_id="a1",
        answer=text,
        citations=[
            Citation(
                n=n,
                doc_id="d",
                title=f"文件*{n}*",
                doc_number="鲁政字〔2020〕1号",
                section_path="一、总则",
                quote="原文",
                start=0,
                end=2,
            )
            for n in range(1, citations + 1)
        ],
        notices=["计划执行期已结束。"],
    )


def test_markdown_escapes_and_numbers_citations() -> None:
    markup = MarkdownMarkup(italics=False)
    [message] = paginate(rendering.answer_paragraphs(_answer("甲[1]。乙*强调*[2]。<b>#")), 2048, markup)
    assert "甲[1]。乙＊强调＊[2]。＜b＞＃" in message  # markup characters from the text cannot format
    assert "**来源**" in message
    assert "[1] **《文件＊1＊》** 鲁政字〔2020〕1号 · 一、总则" in message
    assert "[2]" in message and "*计划" not in message  # no italics where the platform has none
    [quote] = paginate(rendering.quote_paragraphs(_answer("x").citations[0]), 100, markup)
    assert quote.endswith("> 原文")


def test_markdown_emphasis_keeps_spaces_outside_its_markers() -> None:
    italic = MarkdownMarkup(italics=True)
    line = rendering.citation_line(
        _answer("x").citations[0], link=lambda c: f"https://p.example/#cite={c.doc_id}"
    )
    assert italic.render_line(line) == (
        "[1] **《文件＊1＊》** 鲁政字〔2020〕1号 *· 一、总则* [查看原文](https://p.example/#cite=d)"
    )
    assert italic.render(Piece("  ", "bold")) == "  "


@pytest.mark.parametrize(
    ("markup", "limit"),
    [(MarkdownMarkup(length=utf8_len), 2048), (MarkdownMarkup(), 500), (HTML, 4096), (Markup(), 300)],
)
def test_long_answers_split_within_the_limit_without_losing_text(markup: Markup, limit: int) -> None:
    sentences = [f"第{i}条：加快建设新型基础设施，推进5G网络和数据中心建设。" for i in range(300)]
    answer = _answer("".join(sentences) + "\n\n" + "\n".join(sentences[:50]))
    chunks = paginate(rendering.answer_paragraphs(answer), limit, markup)
    assert len(chunks) > 1
    assert all(markup.length(chunk) <= limit for chunk in chunks)
    joined = "".join(chunks)
    for sentence in sentences:
        assert markup.escape(sentence) in joined
    assert chunks[-1].count("来源") == 1


def test_a_piece_cut_in_two_keeps_its_style_on_both_sides() -> None:
    paragraphs = [[[Piece("很长的原文。" * 200, "bold")]]]
    chunks = paginate(paragraphs, 300, HTML)
    assert len(chunks) > 1
    assert all(c.startswith("<b>") and c.endswith("</b>") and tg_len(c) <= 300 for c in chunks)


def test_message_claims_are_shared_between_processes_and_restarts(tmp_path: Path) -> None:
    first, second = MessageClaims(tmp_path / "claims.sqlite3"), MessageClaims(tmp_path / "claims.sqlite3")
    try:
        assert first.claim("wecom:zhangsan:1") and not second.claim("wecom:zhangsan:1")
        assert second.claim("wecom:zhangsan:2") and not first.claim("wecom:zhangsan:2")
    finally:
        first.close()
        second.close()
    again = MessageClaims(tmp_path / "claims.sqlite3")
    try:
        assert not again.claim("wecom:zhangsan:1")
    finally:
        again.close()


def test_wecom_settings_are_all_or_nothing(tmp_path: Path) -> None:
    from bot.api.app import create_app
    from bot.config import Settings

    assert create_app(settings=Settings(data_dir=tmp_path)).state.wecom is None  # no corp id: no route
    with pytest.raises(ValueError, match="POLICYBOT_WECOM_SECRET"):
        create_app(settings=Settings(data_dir=tmp_path, wecom_corp_id="ww1", wecom_agent_id=1))
    with pytest.raises(ValueError, match="43-character"):
        create_app(
            settings=Settings(
                data_dir=tmp_path,
                wecom_corp_id="ww1",
                wecom_agent_id=1,
                wecom_secret="s",
                wecom_token="t",
                wecom_aes_key="too-short",
            )
        )


def test_policybot_dingtalk_needs_its_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import cmd_dingtalk
    from bot.config import Settings

    assert cmd_dingtalk(None, Settings(dingtalk_client_id="ding1")) == 2  # type: ignore[arg-type]
    assert "POLICYBOT_DINGTALK_CLIENT_SECRET" in capsys.readouterr().err


def test_example_questions_come_from_the_library() -> None:
    from bot.channels.rendering import example_questions, start_paragraphs

    documents = [
        {"title": "甲市数据条例", "period": ""},
        {"title": "乙省三年行动方案(2024-2026年)", "period": "2024-2026"},
    ]
    examples = example_questions(documents)
    assert examples[:2] == (
        "《甲市数据条例》的主要目标是什么？",
        "《乙省三年行动方案(2024-2026年)》的主要目标是什么？",
    )
    assert len(examples) == 3 and examples[2] == "《甲市数据条例》是哪个部门发布的？"
    assert any("执行期" in q for q in example_questions(documents, limit=6))
    assert example_questions([]) == ()
    many = [{"title": f"第{i}号文件"} for i in range(300)]
    text = "".join(p.text for para in start_paragraphs(many, sources_hint="") for line in para for p in line)
    assert "共300份文件" in text and "第299号文件" not in text


def test_a_header_field_has_no_link_into_the_text() -> None:
    header = (
        _answer("x")
        .citations[0]
        .model_copy(
            update={
                "source": "header",
                "section_path": "文件信息",
                "quote": "发文机关：某市人民政府",
                "start": 0,
                "end": 0,
            }
        )
    )
    line = rendering.citation_line(header, link=lambda c: f"https://p.example/#cite={c.doc_id}")
    rendered = MarkdownMarkup(italics=True).render_line(line)
    assert "文件信息" in rendered and "查看原文" not in rendered
