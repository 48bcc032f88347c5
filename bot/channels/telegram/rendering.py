"""Telegram's format (parse_mode HTML) over the shared rendering in bot/channels/rendering.py.

Pieces are escaped one by one with `html.escape` and only then wrapped in tags; messages are split into
chunks of at most 4096 UTF-16 units with balanced tags (see `bot.channels.rendering.paginate`)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any, ClassVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answer import Answer, Citation
from bot.channels import rendering
from bot.channels.rendering import Paragraph, Piece, example_questions

__all__ = ["HTML", "MAX_MESSAGE_LENGTH", "Piece", "example_questions", "paginate", "tg_len"]

MAX_MESSAGE_LENGTH = 4096


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class HtmlMarkup(rendering.Markup):
    wraps: ClassVar[dict[str, tuple[str, str]]] = {
        "bold": ("<b>", "</b>"),
        "italic": ("<i>", "</i>"),
        "code": ("<code>", "</code>"),
        "quote": ("<blockquote>", "</blockquote>"),
    }

    def escape(self, text: str) -> str:
        return html.escape(text, quote=False)

    def link(self, label: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'

    def length(self, text: str) -> int:
        return tg_len(text)


HTML = HtmlMarkup()


def paginate(paragraphs: Sequence[Sequence[Sequence[Piece]]], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return rendering.paginate(paragraphs, limit, HTML)


def text_paragraphs(text: str) -> list[Paragraph]:
    return rendering.text_paragraphs(text)


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return paginate(rendering.answer_paragraphs(answer), limit)


def answer_keyboard(answer: Answer, per_row: int = 4) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(f"原文 {c.n}", callback_data=f"src:{answer.answer_id}:{c.n}")
        for c in answer.citations
    ]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=f"fb:{answer.answer_id}:up"),
            InlineKeyboardButton("👎", callback_data=f"fb:{answer.answer_id}:down"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def render_quote(citation: Citation, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return paginate(rendering.quote_paragraphs(citation), limit)


def render_sources(answer: Answer | None, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return paginate(rendering.sources_paragraphs(answer), limit)


def render_documents(documents: Sequence[dict[str, Any]], today: dt.date | None = None) -> list[str]:
    return paginate(rendering.documents_paragraphs(documents, today))


def render_start(documents: Sequence[dict[str, Any]], examples: Sequence[str] | None = None) -> list[str]:
    return paginate(
        rendering.start_paragraphs(documents, examples, sources_hint="可点“原文 n”查看引用原文。")
    )


def render_help(show_mode: bool = False) -> list[str]:
    extra = ["/mode 模式 —— 切换回答模式（管理员）"] if show_mode else []
    return paginate(rendering.help_paragraphs("请 @我 或回复我的消息提问。", extra))
