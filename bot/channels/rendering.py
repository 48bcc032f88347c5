"""One rendering of an `Answer` (and of the other bot messages) for every chat channel.

Content is built once as plain pieces (`Piece`: text plus an optional style) grouped into lines and paragraphs:
the answer text with its `[n]` markers, notices, and a numbered 来源 list. A channel only says how a piece is
written (`Markup`: escaping, how a style is wrapped, how its platform counts length) and `paginate` splits the
result into messages no longer than the platform allows, at paragraph, then line, then sentence boundaries.
Every piece is escaped on its own before it is wrapped, so no document- or user-derived text can inject markup,
and a piece that has to be cut is wrapped again on both sides, so every message is well formed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from bot.answer import Answer, Citation

BREAK_AFTER = "。！？；;!?\n，,、 "
# how far back from a hard cut a sentence break may be to be preferred over the cut
SENTENCE_LOOKBACK = 400


@dataclass(frozen=True)
class Piece:
    text: str
    style: str | None = None  # "bold", "italic", "code", "quote"; a channel may write some styles plainly
    url: str | None = None  # a link: the text is its label


Line = list[Piece]
Paragraph = list[Line]


class Markup:
    """Plain text: no escaping, styles dropped. Channels subclass it (HTML for Telegram, markdown for WeCom
    and DingTalk) and set `line_separator` / `paragraph_separator` where their format needs other breaks."""

    wraps: ClassVar[dict[str, tuple[str, str]]] = {}
    line_separator: ClassVar[str] = "\n"
    paragraph_separator: ClassVar[str] = "\n\n"

    def __init__(self, length: Callable[[str], int] = len) -> None:
        self._length = length

    def escape(self, text: str) -> str:
        return text

    def length(self, text: str) -> int:
        return self._length(text)

    def render(self, piece: Piece) -> str:
        body = self.escape(piece.text)
        if piece.url:
            return self.link(body, piece.url)
        opening, closing = self.wraps.get(piece.style or "", ("", ""))
        return f"{opening}{body}{closing}"

    def link(self, label: str, url: str) -> str:
        return f"{label}：{url}"

    def overhead(self, style: str | None) -> int:
        opening, closing = self.wraps.get(style or "", ("", ""))
        return self.length(opening) + self.length(closing)

    def render_line(self, line: Sequence[Piece]) -> str:
        return "".join(self.render(piece) for piece in line)

    def render_paragraph(self, paragraph: Sequence[Sequence[Piece]]) -> str:
        return self.line_separator.join(self.render_line(line) for line in paragraph)


class MarkdownMarkup(Markup):
    """The markdown both WeCom and DingTalk render: **bold**, *italic*, `> quote`, links. Neither documents whether
    it honours backslash escapes, so characters that would start markup in document or user text are written as
    their full-width forms instead (＊ ＿ ｀ ＜ ＞ ＃: they read the same in Chinese text); `[n]` stays as it is
    (brackets are only markup before a `(`). `italic` is written plainly where the platform has none (WeCom)."""

    FULL_WIDTH: ClassVar[dict[int, str]] = str.maketrans(
        {"*": "＊", "_": "＿", "`": "｀", "<": "＜", ">": "＞", "#": "＃"}
    )
    wraps: ClassVar[dict[str, tuple[str, str]]] = {
        "bold": ("**", "**"),
        "italic": ("*", "*"),
        "code": ("`", "`"),
    }
    line_separator: ClassVar[str] = "  \n"  # two spaces: a hard line break in markdown

    def __init__(self, *, italics: bool = True, length: Callable[[str], int] = len) -> None:
        super().__init__(length)
        self._italics = italics

    def escape(self, text: str) -> str:
        return text.translate(self.FULL_WIDTH).replace("](", "]（")

    def link(self, label: str, url: str) -> str:
        return f"[{label}]({url.replace('(', '%28').replace(')', '%29').replace(' ', '%20')})"

    def render(self, piece: Piece) -> str:
        if piece.url:
            return super().render(piece)
        if piece.style == "quote":
            return "\n".join(f"> {self.escape(part)}" for part in piece.text.split("\n"))
        if piece.style not in self.wraps or (piece.style == "italic" and not self._italics):
            return self.escape(piece.text)
        # emphasis markers must touch the text ("* x*" is not emphasis): edge spaces go outside them
        core = piece.text.strip()
        if not core:
            return self.escape(piece.text)
        start = piece.text.index(core)
        lead, trail = piece.text[:start], piece.text[start + len(core) :]
        return self.escape(lead) + super().render(Piece(core, piece.style)) + self.escape(trail)


def utf8_len(text: str) -> int:
    """Length as WeCom counts it: UTF-8 bytes."""
    return len(text.encode("utf-8"))


# -- splitting -------------------------------------------------------------------------------------


def _split_text(text: str, budget: int, markup: Markup) -> list[str]:
    """Cut plain text so that each escaped part fits `budget`, preferring sentence breaks."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        used, end, last_break = 0, start, -1
        while end < len(text):
            cost = markup.length(markup.escape(text[end]))
            if used + cost > budget:
                break
            used += cost
            end += 1
            if text[end - 1] in BREAK_AFTER:
                last_break = end
        if end < len(text) and last_break > start and end - last_break < SENTENCE_LOOKBACK:
            end = last_break
        end = max(end, start + 1)
        parts.append(text[start:end])
        start = end
    return parts


def _split_line(line: Sequence[Piece], limit: int, markup: Markup) -> list[str]:
    units: list[str] = []
    current = ""
    for piece in line:
        rendered = markup.render(piece)
        if markup.length(current) + markup.length(rendered) <= limit:
            current += rendered
            continue
        if current:
            units.append(current)
            current = ""
        if markup.length(rendered) <= limit:
            current = rendered
            continue
        for part in _split_text(piece.text, limit - markup.overhead(piece.style), markup):
            units.append(markup.render(Piece(part, piece.style, piece.url)))
    if current:
        units.append(current)
    return units


def _pack(units: Iterable[str], separator: str, limit: int, markup: Markup) -> list[str]:
    chunks: list[str] = []
    current: str | None = None
    for unit in units:
        if current is None:
            current = unit
        elif markup.length(current) + markup.length(separator) + markup.length(unit) <= limit:
            current += separator + unit
        else:
            chunks.append(current)
            current = unit
    if current is not None:
        chunks.append(current)
    return chunks


def paginate(paragraphs: Sequence[Sequence[Sequence[Piece]]], limit: int, markup: Markup) -> list[str]:
    """Render paragraphs into messages of at most `limit` (as `markup.length` counts) each."""
    units: list[str] = []
    for paragraph in paragraphs:
        rendered = markup.render_paragraph(paragraph)
        if not rendered.strip():
            continue
        if markup.length(rendered) <= limit:
            units.append(rendered)
            continue
        line_units: list[str] = []
        for line in paragraph:
            text = markup.render_line(line)
            if markup.length(text) <= limit:
                line_units.append(text)
            else:
                line_units.extend(_split_line(line, limit, markup))
        units.extend(_pack(line_units, markup.line_separator, limit, markup))
    return _pack(units, markup.paragraph_separator, limit, markup) or [""]


# -- content ---------------------------------------------------------------------------------------

MAX_EXAMPLES = 3
MAX_LISTED_DOCUMENTS = 5


def example_questions(documents: Sequence[dict[str, Any]], limit: int = MAX_EXAMPLES) -> tuple[str, ...]:
    """Questions to try, made from the library's own documents (their titles and fields), one per document
    first: nothing about any particular library is written here."""
    per_document: list[list[str]] = []
    for document in documents:
        title = str(document.get("title") or "").strip()
        if not title:
            continue
        asks = [f"《{title}》的主要目标是什么？"]
        if document.get("period"):
            asks.append(f"《{title}》的执行期从哪年到哪年？")
        asks.append(f"《{title}》是哪个部门发布的？")
        per_document.append(asks)
    rounds = max((len(a) for a in per_document), default=0)
    ordered = [asks[i] for i in range(rounds) for asks in per_document if i < len(asks)]
    return tuple(ordered[:limit])


NO_SOURCES = "暂无可显示的出处：请先提问，再用 /sources 查看上一条回答引用的原文。"


def text_paragraphs(text: str, style: str | None = None) -> list[Paragraph]:
    paragraphs: list[Paragraph] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [[Piece(line, style)] if line else [] for line in block.split("\n")]
        if any(lines):
            paragraphs.append(lines)
    return paragraphs


CitationLink = Callable[[Citation], str]


def web_citation_link(public_url: str) -> CitationLink | None:
    """Links to the web page's citation view (`/#cite=<doc_id>:<start>-<end>`: the quote highlighted in its
    document), or None when the page's public address is not configured."""
    if not public_url:
        return None
    base = public_url.rstrip("/")
    return lambda c: f"{base}/#cite={quote(c.doc_id, safe='')}:{c.start}-{c.end}"


def citation_line(citation: Citation, link: CitationLink | None = None) -> Line:
    line: Line = [Piece(f"[{citation.n}] "), Piece(f"《{citation.title}》", "bold")]
    if citation.doc_number:
        line.append(Piece(f" {citation.doc_number}"))
    if citation.section_path:
        line.append(Piece(f" · {citation.section_path}", "italic"))
    if link is not None and citation.source == "text":  # a header field has no place in the text to show
        line.extend([Piece(" "), Piece("查看原文", url=link(citation))])
    return line


def answer_paragraphs(answer: Answer, link: CitationLink | None = None) -> list[Paragraph]:
    """The answer text with its `[n]` markers, then its notices, then the numbered 来源 list (each source
    with a link to the web page's citation view when `link` is given)."""
    paragraphs = text_paragraphs(answer.answer or "")
    if answer.notices:
        paragraphs.append([[Piece("⚠️ "), Piece(notice, "italic")] for notice in answer.notices])
    if answer.citations:
        paragraphs.append([[Piece("来源", "bold")], *(citation_line(c, link) for c in answer.citations)])
    return paragraphs


def lead_paragraphs(answer: Answer) -> list[Paragraph]:
    """The follow-up to an extract already sent (a channel that cannot edit messages): the model's verified
    lead, marked as a summary of the quotes above with their numbers, and the answer's notices."""
    paragraphs: list[Paragraph] = []
    if answer.lead:
        paragraphs.append([[Piece("概括（编号同上条原文）", "bold")], [Piece(answer.lead)]])
    if answer.notices:
        paragraphs.append([[Piece("⚠️ "), Piece(notice, "italic")] for notice in answer.notices])
    return paragraphs


def quote_paragraphs(citation: Citation) -> list[Paragraph]:
    return [[citation_line(citation)], [[Piece(citation.quote or "（无原文）", "quote")]]]


def sources_paragraphs(answer: Answer | None) -> list[Paragraph]:
    """What /sources shows: every quote the last answer cited."""
    if answer is None or not answer.citations:
        return [[[Piece(NO_SOURCES)]]]
    paragraphs: list[Paragraph] = [[[Piece("上一条回答引用的原文", "bold")]]]
    for citation in answer.citations:
        paragraphs.extend(quote_paragraphs(citation))
    return paragraphs


def document_status(summary: dict[str, Any], today: dt.date) -> list[str]:
    status: list[str] = []
    if summary.get("completeness") == "partial":
        status.append("部分收录")
    period = str(summary.get("period") or "")
    end = period.rsplit("-", 1)[-1] if period else ""
    if end.isdigit() and int(end) < today.year:
        status.append("已结束")
    return status


def documents_paragraphs(
    documents: Sequence[dict[str, Any]], today: dt.date | None = None
) -> list[Paragraph]:
    today = today or dt.date.today()
    if not documents:
        return [[[Piece("文库为空：尚未收录任何政策文件。")]]]
    paragraphs: list[Paragraph] = [[[Piece(f"已收录 {len(documents)} 份政策文件", "bold")]]]
    for i, doc in enumerate(documents, 1):
        lines: Paragraph = [[Piece(f"{i}. "), Piece(f"《{doc.get('title', '')}》", "bold")]]
        lines.append([Piece(f"文号：{doc.get('doc_number') or '（未收录）'}")])
        if doc.get("period"):
            lines.append([Piece(f"执行期：{doc['period']}年")])
        status = document_status(doc, today)
        if status:
            lines.append([Piece("状态："), Piece("、".join(status), "italic")])
        paragraphs.append(lines)
    return paragraphs


def start_paragraphs(
    documents: Sequence[dict[str, Any]], examples: Sequence[str] | None = None, *, sources_hint: str
) -> list[Paragraph]:
    paragraphs: list[Paragraph] = [
        [
            [Piece("您好！我是政策问答助手。", "bold")],
            [Piece(f"我只根据已收录的政策文件作答，每条回答都附带出处，{sources_hint}")],
        ]
    ]
    if documents:
        # a few titles and the count: a library of hundreds of documents is not listed in a greeting (/docs is)
        shown = [Piece(f"• 《{d.get('title', '')}》") for d in documents[:MAX_LISTED_DOCUMENTS]]
        more = len(documents) - len(shown)
        tail = [[Piece(f"…共{len(documents)}份文件，发送 /docs 查看全部。")]] if more > 0 else []
        paragraphs.append([[Piece("目前收录：", "bold")], *([p] for p in shown), *tail])
    examples = example_questions(documents) if examples is None else examples
    if examples:
        paragraphs.append([[Piece("可以这样问：", "bold")], *([Piece(f"• {q}")] for q in examples)])
    paragraphs.append([[Piece("命令列表见 /help。")]])
    return paragraphs


HELP_COMMANDS = (
    "/ask 问题 —— 提问",
    "/sources —— 查看上一条回答引用的原文",
    "/docs —— 已收录的文件（文号、执行期、状态）",
    "/reset —— 清空对话上下文",
    "/feedback 意见 —— 提交反馈",
)


def help_paragraphs(group_hint: str, extra: Sequence[str] = ()) -> list[Paragraph]:
    """The command list every channel shows; `group_hint` says how to ask in a group on that platform."""
    lines: Paragraph = [[Piece("• 私聊：直接发送文字问题即可。")], [Piece(f"• 群聊：{group_hint}")]]
    lines.extend([Piece(f"• {item}")] for item in (*HELP_COMMANDS, *extra))
    return [[[Piece("使用说明", "bold")]], lines]
