"""HTML rendering for Telegram (parse_mode HTML).

Messages are built from plain pieces (`Piece`), escaped one by one with `html.escape` and only then
wrapped in tags, so no document- or user-derived text can inject markup. `paginate` splits at
paragraph, then line, then sentence boundaries into chunks of at most 4096 UTF-16 units; a piece
that has to be cut is re-wrapped in its tag on both sides, so every chunk has balanced tags."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answer import Answer, Citation

MAX_MESSAGE_LENGTH = 4096
BREAK_AFTER = "。！？；;!?\n，,、 "


@dataclass(frozen=True)
class Piece:
    text: str
    tag: str | None = None  # "b", "i", "code", "blockquote"

    def render(self) -> str:
        body = html.escape(self.text, quote=False)
        return f"<{self.tag}>{body}</{self.tag}>" if self.tag else body

    def overhead(self) -> int:
        return 2 * len(self.tag) + 5 if self.tag else 0


Line = list[Piece]
Paragraph = list[Line]


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def render_line(line: Sequence[Piece]) -> str:
    return "".join(piece.render() for piece in line)


def render_paragraph(paragraph: Sequence[Sequence[Piece]]) -> str:
    return "\n".join(render_line(line) for line in paragraph)


def _split_text(text: str, budget: int) -> list[str]:
    """Cut plain text so that each escaped part fits `budget`, preferring sentence breaks."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        used, end, last_break = 0, start, -1
        while end < len(text):
            cost = tg_len(html.escape(text[end], quote=False))
            if used + cost > budget:
                break
            used += cost
            end += 1
            if text[end - 1] in BREAK_AFTER:
                last_break = end
        if end < len(text) and last_break > start and end - last_break < 400:
            end = last_break
        end = max(end, start + 1)
        parts.append(text[start:end])
        start = end
    return parts


def _split_line(line: Sequence[Piece], limit: int) -> list[str]:
    units: list[str] = []
    current = ""
    for piece in line:
        rendered = piece.render()
        if tg_len(current) + tg_len(rendered) <= limit:
            current += rendered
            continue
        if current:
            units.append(current)
            current = ""
        if tg_len(rendered) <= limit:
            current = rendered
            continue
        for part in _split_text(piece.text, limit - piece.overhead()):
            units.append(Piece(part, piece.tag).render())
    if current:
        units.append(current)
    return units


def _pack(units: Iterable[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current: str | None = None
    for unit in units:
        if current is None:
            current = unit
        elif tg_len(current) + tg_len(separator) + tg_len(unit) <= limit:
            current += separator + unit
        else:
            chunks.append(current)
            current = unit
    if current is not None:
        chunks.append(current)
    return chunks


def paginate(paragraphs: Sequence[Sequence[Sequence[Piece]]], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Render paragraphs into HTML chunks of at most `limit` UTF-16 units each."""
    units: list[str] = []
    for paragraph in paragraphs:
        rendered = render_paragraph(paragraph)
        if not rendered.strip():
            continue
        if tg_len(rendered) <= limit:
            units.append(rendered)
            continue
        line_units: list[str] = []
        for line in paragraph:
            text = render_line(line)
            if tg_len(text) <= limit:
                line_units.append(text)
            else:
                line_units.extend(_split_line(line, limit))
        units.extend(_pack(line_units, "\n", limit))
    return _pack(units, "\n\n", limit) or [""]


# -- content ---------------------------------------------------------------------------------------


def text_paragraphs(text: str, tag: str | None = None) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [[Piece(line, tag)] if line else [] for line in block.split("\n")]
        if any(lines):
            paragraphs.append(lines)
    return paragraphs


def citation_line(citation: Citation) -> Line:
    line: Line = [Piece(f"[{citation.n}] "), Piece(f"《{citation.title}》", "b")]
    if citation.doc_number:
        line.append(Piece(f" {citation.doc_number}"))
    if citation.section_path:
        line.append(Piece(f" · {citation.section_path}", "i"))
    return line


def answer_paragraphs(answer: Answer) -> list[Paragraph]:
    paragraphs = text_paragraphs(answer.answer or "")
    if answer.notices:
        paragraphs.append([[Piece("⚠️ "), Piece(notice, "i")] for notice in answer.notices])
    if answer.citations:
        paragraphs.append([[Piece("来源", "b")], *(citation_line(c) for c in answer.citations)])
    return paragraphs


def render_answer(answer: Answer, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return paginate(answer_paragraphs(answer), limit)


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


def quote_paragraphs(citation: Citation) -> list[Paragraph]:
    return [[citation_line(citation)], [[Piece(citation.quote or "（无原文）", "blockquote")]]]


def render_quote(citation: Citation, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    return paginate(quote_paragraphs(citation), limit)


def render_sources(answer: Answer | None, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    if answer is None or not answer.citations:
        return paginate(
            [[[Piece("暂无可显示的出处：请先提问，再用 /sources 查看上一条回答引用的原文。")]]], limit
        )
    paragraphs: list[Paragraph] = [[[Piece("上一条回答引用的原文", "b")]]]
    for citation in answer.citations:
        paragraphs.extend(quote_paragraphs(citation))
    return paginate(paragraphs, limit)


def document_status(summary: dict[str, Any], today: dt.date) -> list[str]:
    status: list[str] = []
    if summary.get("completeness") == "partial":
        status.append("部分收录")
    period = str(summary.get("period") or "")
    end = period.rsplit("-", 1)[-1] if period else ""
    if end.isdigit() and int(end) < today.year:
        status.append("已结束")
    return status


def render_documents(documents: Sequence[dict[str, Any]], today: dt.date | None = None) -> list[str]:
    today = today or dt.date.today()
    if not documents:
        return paginate([[[Piece("文库为空：尚未收录任何政策文件。")]]])
    paragraphs: list[Paragraph] = [[[Piece(f"已收录 {len(documents)} 份政策文件", "b")]]]
    for i, doc in enumerate(documents, 1):
        lines: Paragraph = [[Piece(f"{i}. "), Piece(f"《{doc.get('title', '')}》", "b")]]
        lines.append([Piece(f"文号：{doc.get('doc_number') or '（未收录）'}")])
        if doc.get("period"):
            lines.append([Piece(f"执行期：{doc['period']}年")])
        status = document_status(doc, today)
        if status:
            lines.append([Piece("状态："), Piece("、".join(status), "i")])
        paragraphs.append(lines)
    return paginate(paragraphs)


EXAMPLE_QUESTIONS = (
    "淄博新基建计划的基本原则有哪些？",
    "山东省到2022年要建成多少个5G基站？",
    "淄博市新型基础设施建设三年行动计划的执行期是哪几年？",
)


def render_start(
    documents: Sequence[dict[str, Any]], examples: Sequence[str] = EXAMPLE_QUESTIONS
) -> list[str]:
    paragraphs: list[Paragraph] = [
        [
            [Piece("您好！我是政策问答助手。", "b")],
            [Piece("我只根据已收录的政策文件作答，每条回答都附带出处，可点“原文 n”查看引用原文。")],
        ]
    ]
    if documents:
        paragraphs.append(
            [[Piece("目前收录：", "b")], *([Piece(f"• 《{d.get('title', '')}》")] for d in documents)]
        )
    paragraphs.append([[Piece("可以这样问：", "b")], *([Piece(f"• {q}")] for q in examples)])
    paragraphs.append([[Piece("命令列表见 /help。")]])
    return paginate(paragraphs)


HELP_TEXT = [
    [[Piece("使用说明", "b")]],
    [
        [Piece("• 私聊：直接发送文字问题即可。")],
        [Piece("• 群聊：请 @我 或回复我的消息提问。")],
        [Piece("• /ask 问题 —— 提问")],
        [Piece("• /sources —— 查看上一条回答引用的原文")],
        [Piece("• /docs —— 已收录的文件（文号、执行期、状态）")],
        [Piece("• /reset —— 清空对话上下文")],
        [Piece("• /feedback 意见 —— 提交反馈")],
    ],
]


def render_help(show_mode: bool = False) -> list[str]:
    paragraphs = [list(p) for p in HELP_TEXT]
    if show_mode:
        paragraphs[1] = [*paragraphs[1], [Piece("• /mode 模式 —— 切换回答模式（管理员）")]]
    return paginate(paragraphs)
