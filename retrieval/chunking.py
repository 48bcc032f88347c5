"""Structure-aware chunking of Chinese policy documents.

Policy documents are numbered: 一、 → (一)/（一） → 1./1、 → —— bullet paragraphs, with 【字 号】-style
metadata lines and, often, a notice (通知) that wraps the plan. Each line is classified, the numbering gives
the section tree, and a chunk is one leaf section (split at sentence ends when it exceeds the token budget).
Chunks never cross a top-level section; together they cover every non-blank character of the body, and their
offsets point at the exact original text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval.documents import READER_VERSION, PolicyDocument
from retrieval.normalize import compact
from retrieval.tokens import count_tokens

# bump when chunks are cut differently; with documents.READER_VERSION it is the index format (`index_format`)
CHUNKER_VERSION = 2  # 2: sections of laws and regulations (第…编/章/节/条)
PATH_SEPARATOR = " › "
DEFAULT_MAX_TOKENS = 480

CN_NUM = "一二三四五六七八九十"
_LEGAL_NUM = rf"[{CN_NUM}百千零〇两0-9０-９]+"
# Levels only order the tree (smaller = higher). Laws and regulations: 编 › 章 › 节 › 条, whose items are (一)…;
# policy documents: 一、 › (一) › 1. › (1) / —— bullets.
TOP_LEVEL = 10  # 一、 and anything above it starts the body of a document
ARTICLE_LEVEL = 5
_HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^第{_LEGAL_NUM}编")),
    (2, re.compile(rf"^第{_LEGAL_NUM}章")),
    (3, re.compile(rf"^第{_LEGAL_NUM}节")),
    (ARTICLE_LEVEL, re.compile(rf"^第{_LEGAL_NUM}条")),
    (TOP_LEVEL, re.compile(rf"^[{CN_NUM}]+、")),
    (20, re.compile(rf"^[(（][{CN_NUM}]+[)）]")),
    (30, re.compile(r"^[0-9０-９]+\s*[.、．](?![0-9０-９])")),
    (40, re.compile(r"^[(（][0-9０-９]+[)）]")),
    (40, re.compile(r"^(——|--)")),
)
_ARTICLE = re.compile(rf"^第{_LEGAL_NUM}条")
_META_LINE = re.compile(r"^【([^】]{1,40})】(.*)$")
_SENTENCE_END = re.compile(r"[。；！？;!?]+[”’」』)）]*")
_CLAUSE_END = re.compile(r"[，,：:]")
_LABEL_MAX = 40

FILE_INFO = "文件信息"
NOTICE = "印发通知"
PREAMBLE = "前言"


def index_format() -> dict[str, int]:
    """How documents were read and cut into chunks: an index built with another format is rebuilt at start-up."""
    return {"chunker_version": CHUNKER_VERSION, "reader_version": READER_VERSION}


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with everything needed to cite it."""

    chunk_id: str
    doc_id: str
    title: str
    doc_number: str
    issuer: str
    published: str
    period: str
    completeness: str
    section_parts: tuple[str, ...]
    start: int
    end: int
    text: str
    token_count: int
    ordinal: int
    is_heading_only: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def section_path(self) -> str:
        return PATH_SEPARATOR.join(self.section_parts)

    @property
    def contextual_text(self) -> str:
        """What is embedded and BM25-indexed: title and section path prefixed (the displayed text is not)."""
        return f"{self.title}\n{self.section_path}\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        data = asdict(self)
        data["section_parts"] = list(self.section_parts)
        data["section_path"] = self.section_path
        data.pop("extra")
        return data

    @classmethod
    def from_metadata(cls, data: dict[str, Any]) -> Chunk:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["section_parts"] = tuple(fields.get("section_parts") or ())
        return cls(**fields)


@dataclass
class _Line:
    start: int
    end: int
    text: str  # stripped original
    kind: str  # blank | meta | heading | text
    level: int = 0


def heading_level(line: str) -> int:
    """0 for body text, else the heading's rank (smaller = higher): 第…编/章/节/条 of laws and regulations, then
    一、, (一), 1., (1) and —— bullets of policy documents."""
    for level, pattern in _HEADING_PATTERNS:
        if pattern.match(line):
            return level
    return 0


def heading_label(line: str) -> str:
    """The section's name as it appears: the heading up to its first full stop, bullets without the dash."""
    label = line.strip()
    article = _ARTICLE.match(label)
    if article:  # "第五条 当事人…": the article's number names it, its text is content
        return article.group(0)
    if label.startswith(("——", "--")):
        label = label.lstrip("—-").strip()
    cut = re.search(r"[。；;]", label)
    if cut:
        label = label[: cut.start()]
    return label[:_LABEL_MAX].rstrip("，,、：:")


def _bare_heading(line: str) -> bool:
    """A heading line that is only a heading (no sentence after the section name)."""
    return len(line.strip().rstrip("。.:：")) <= len(heading_label(line)) + (
        2 if line.startswith(("——", "--")) else 0
    )


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        lead = len(body) - len(body.lstrip())
        start = position + lead
        end = start + len(stripped)
        if not stripped:
            kind, level = "blank", 0
        elif _META_LINE.match(stripped):
            kind, level = "meta", 0
        else:
            level = heading_level(stripped)
            kind = "heading" if level else "text"
        lines.append(_Line(start, end, stripped, kind, level))
        position += len(raw)
    return lines


def _title_core(title: str) -> str:
    return compact(re.sub(r"[(（][^)）]*[)）]", "", title))


@dataclass
class _Block:
    parts: tuple[str, ...]
    lines: list[_Line]

    @property
    def heading_only(self) -> bool:
        """No content of its own: a lone heading, or 【…】 marker lines without a value."""
        return all(
            (line.kind == "heading" and len(self.lines) == 1 and _bare_heading(line.text))
            or (line.kind == "meta" and not _META_LINE.match(line.text).group(2).strip())  # type: ignore[union-attr]
            for line in self.lines
        )


def _blocks(document: PolicyDocument) -> list[_Block]:
    """Group lines into blocks that share one section path."""
    lines = _split_lines(document.text)
    title_core = _title_core(document.title)
    content = [line for line in lines if line.kind != "blank"]
    # the leading document-information block runs to the last 【…】 line of the first run of them; it
    # never reaches past a top-level heading (later 【…】 lines start fragments, below)
    info_end = -1
    for index, line in enumerate(content[:40]):
        if line.kind == "meta":
            info_end = index
        elif info_end >= 0 or (line.level and line.level <= TOP_LEVEL):
            break
    notice_first = any("通知" in compact(line.text) for line in content[:8] if line.kind == "text")
    preamble_label = NOTICE if notice_first else PREAMBLE
    stack: list[tuple[int, str]] = []
    in_preamble = True
    blocks: list[_Block] = []

    def place(parts: tuple[str, ...], line: _Line, new_block: bool) -> None:
        if blocks and blocks[-1].parts == parts and not new_block:
            blocks[-1].lines.append(line)
        else:
            blocks.append(_Block(parts, [line]))

    for index, line in enumerate(content):
        if index <= info_end:
            place((FILE_INFO,), line, False)
            continue
        if line.kind == "meta":
            # a 【…】 line inside the body starts a new fragment (partial copies are stitched this way)
            stack, in_preamble, preamble_label = [], True, PREAMBLE
            place((FILE_INFO,), line, False)
            continue
        if line.kind == "heading" and (line.level <= TOP_LEVEL or not in_preamble):
            in_preamble = False
            while stack and stack[-1][0] >= line.level:
                stack.pop()
            stack.append((line.level, heading_label(line.text)))
            place(tuple(label for _, label in stack), line, True)
            continue
        if in_preamble:
            text = compact(line.text)
            if len(text) >= 6 and title_core.startswith(text) and "关于" not in text:
                preamble_label = PREAMBLE
            place((preamble_label,), line, False)
            continue
        place(tuple(label for _, label in stack), line, False)
    return _merge_heading_only(blocks)


def _merge_heading_only(blocks: list[_Block]) -> list[_Block]:
    """A heading with no body of its own is carried into its first sub-section's block."""
    merged: list[_Block] = []
    pending: list[_Line] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        is_parent_of_next = (
            following is not None
            and len(following.parts) > len(block.parts)
            and following.parts[: len(block.parts)] == block.parts
        )
        if block.heading_only and is_parent_of_next:
            pending.extend(block.lines)
            continue
        merged.append(_Block(block.parts, pending + block.lines))
        pending = []
    return merged


def _sentence_spans(
    text: str, start: int, end: int, pattern: re.Pattern[str] = _SENTENCE_END
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        spans.append((cursor, match.end()))
        cursor = match.end()
    if cursor < end:
        spans.append((cursor, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _hard_split(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Last resort for one sentence longer than the budget: cut by characters."""
    pieces: list[tuple[int, int]] = []
    cursor = start
    while cursor < end:
        size = min(end - cursor, max_tokens)
        while size > 1 and count_tokens(text[cursor : cursor + size]) > max_tokens:
            size = max(1, size * 3 // 4)
        pieces.append((cursor, cursor + size))
        cursor += size
    return pieces


def _pack(
    text: str, start: int, end: int, max_tokens: int, pattern: re.Pattern[str] = _SENTENCE_END
) -> list[tuple[int, int]]:
    """Split [start, end) into contiguous pieces of at most max_tokens, cutting at sentence ends
    (at clause ends inside an over-long sentence, by characters as a last resort)."""
    if count_tokens(text[start:end]) <= max_tokens:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for a, b in _sentence_spans(text, start, end, pattern):
        if current is not None and count_tokens(text[current[0] : b]) <= max_tokens:
            current = (current[0], b)
            continue
        if current is not None:
            pieces.append(current)
        if count_tokens(text[a:b]) <= max_tokens:
            current = (a, b)
        elif pattern is _SENTENCE_END:
            pieces.extend(_pack(text, a, b, max_tokens, _CLAUSE_END))
            current = None
        else:
            pieces.extend(_hard_split(text, a, b, max_tokens))
            current = None
    if current is not None:
        pieces.append(current)
    return [_trim(text, a, b) for a, b in pieces if text[a:b].strip()]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def chunk_document(document: PolicyDocument, max_tokens: int = DEFAULT_MAX_TOKENS) -> list[Chunk]:
    """Split a document along its numbering into chunks of at most max_tokens (cl100k_base)."""
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    text = document.text
    chunks: list[Chunk] = []
    for block in _blocks(document):
        block_start, block_end = block.lines[0].start, block.lines[-1].end
        for a, b in _pack(text, block_start, block_end, max_tokens):
            piece = text[a:b]
            chunks.append(
                Chunk(
                    chunk_id=f"{document.doc_id}#{len(chunks):04d}",
                    doc_id=document.doc_id,
                    title=document.title,
                    doc_number=document.doc_number,
                    issuer=document.issuer,
                    published=document.published,
                    period=document.period,
                    completeness=document.completeness,
                    section_parts=block.parts,
                    start=a,
                    end=b,
                    text=piece,
                    token_count=count_tokens(piece),
                    ordinal=len(chunks),
                    is_heading_only=block.heading_only,
                )
            )
    return chunks
