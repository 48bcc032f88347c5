"""Document fields read from the text itself, for documents without front matter (plain text from a web page,
a .docx, a PDF): the title line, the issuer, the 文号, the date it was issued, its period, its places and level.

Front matter, when present, always wins; these only fill what it leaves empty. The patterns are the ones Chinese
official documents share (GB/T 9704: 发文机关 + 关于 + 事由 + 文种; 〔年份〕序号号; the date under the signature), so they
hold for documents nobody here has seen."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.normalize import compact, to_simplified
from retrieval.places import document_places, issuing_level

MAX_TITLE_CHARS = 100
HEAD_LINES = 15  # the title, the 文号 and the addressees stand in the first lines
# 文种: what kind of document a title names (the last words of a title)
DOCUMENT_KINDS = (
    "通知",
    "通告",
    "公告",
    "意见",
    "实施意见",
    "指导意见",
    "办法",
    "实施办法",
    "管理办法",
    "规定",
    "决定",
    "方案",
    "实施方案",
    "行动方案",
    "计划",
    "行动计划",
    "规划",
    "细则",
    "实施细则",
    "批复",
    "函",
    "复函",
    "条例",
    "纲要",
    "指引",
    "指南",
    "公报",
    "报告",
    "解读",
    "问答",
    "法",
)
_KIND = "|".join(sorted(set(DOCUMENT_KINDS), key=len, reverse=True))
_TITLE = re.compile(rf"^[^。；;！!？?]{{2,{MAX_TITLE_CHARS}}}(?:{_KIND})(?:[(（][^)）]{{1,20}}[)）])?$")
_NOTICE_OF = re.compile(r"关于(?:印发|转发|发布|公布)[《“\"]?(?P<inner>.+?)[》”\"]?的(?:通知|公告|通告)$")
DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,10}[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\d{1,5}\s*号"
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_PERIOD = re.compile(r"[(（]\s*((?:19|20)\d{2})\s*[-—–~至到]\s*((?:19|20)\d{2})\s*年?\s*[)）]")
_ORGAN = re.compile(
    r"(?:人民政府|政府|办公厅|办公室|委员会|人民代表大会常务委员会|常务委员会|厅|局|部|署|院|委|会|中心|党委|总局|银行)$"
)
_ADDRESSEES = re.compile(r"^各.{1,80}[:：]$")
_SECTION_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．]|第[一二三四五六七八九十百\d]+[章节条])"
)
_LABELLED_DATE = re.compile(
    r"(?:公布|发布|印发|成文|发文)日期[】\]:：\s]*((?:19|20)\d{2})\s*[.．/年-]\s*(\d{1,2})\s*[.．/月-]\s*(\d{1,2})"
)


@dataclass(frozen=True)
class InferredFields:
    title: str = ""
    notice_title: str = ""
    issuer: str = ""
    doc_number: str = ""
    published: str = ""
    period: str = ""
    places: tuple[str, ...] = ()
    jurisdiction: str = ""


def _lines(text: str) -> list[str]:
    return [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()]


def _title_candidates(lines: list[str]) -> list[str]:
    """Head lines, and pairs of neighbouring head lines (a title the page wrapped in two), in order."""
    head = lines[:HEAD_LINES]
    out: list[str] = []
    for i, line in enumerate(head):
        if i + 1 < len(head) and len(head[i + 1]) <= 30 and len(line) + len(head[i + 1]) <= MAX_TITLE_CHARS:
            out.append(line + head[i + 1])  # the wrapped title first: "关于印发…方案" + "(2020-2022年)的通知"
        out.append(line)
    return out


def infer_title(text: str) -> tuple[str, str]:
    """(title, notice_title): the first head line shaped like an official title (…关于…的通知, …意见, …办法);
    when it is a notice that publishes another document (关于印发《X》的通知), X is the title and the notice line the
    notice title. Otherwise the first short head line that is not a sentence; "" when there is none."""
    lines = _lines(text)
    for candidate in _title_candidates(lines):
        plain = compact(to_simplified(candidate))
        if len(candidate) > MAX_TITLE_CHARS or not _TITLE.match(plain) or _ADDRESSEES.match(candidate):
            continue
        inner = _NOTICE_OF.search(candidate) or _NOTICE_OF.search(to_simplified(candidate))
        if inner:
            start, end = inner.span("inner")
            return candidate[start:end].strip('《》“”"'), candidate
        return candidate, ""
    for line in lines[:HEAD_LINES]:
        if (
            len(line) <= 60
            and not re.search(r"[。；;:：，,]$", line)
            and not line.startswith(("各", "【"))
            and not _SECTION_NUMBER.match(line)
        ):
            return line, ""
    return "", ""


def infer_issuer(text: str, title: str, notice_title: str) -> str:
    """The issuing organ: the words before 关于 in the title (when they name an organ), else a short signature line
    ending in an organ's name just above the date, else a head line that is only an organ's name."""
    for heading in (notice_title, title):
        before, sep, _ = to_simplified(heading).partition("关于")
        if sep and 2 <= len(before) <= 40 and _ORGAN.search(before):
            return heading[: len(before)]
    lines = _lines(text)
    for i in range(len(lines) - 1, max(len(lines) - 8, 0) - 1, -1):
        if _DATE.fullmatch(compact(lines[i])) and i > 0:
            candidate = lines[i - 1]
            if len(candidate) <= 40 and _ORGAN.search(to_simplified(candidate)):
                return candidate
    for line in lines[:HEAD_LINES]:
        if len(line) <= 30 and _ORGAN.search(to_simplified(line)) and not line.startswith("各"):
            return line
    return ""


def infer_doc_number(text: str) -> str:
    """The 文号 in the document's head lines (苏府办〔2021〕78号), else "". Only the head: a number cited further
    down (依据…（X〔2020〕1号）) belongs to another document."""
    head = "\n".join(_lines(text)[:HEAD_LINES])
    simplified = to_simplified(head)
    match = DOC_NUMBER.search(simplified)
    if match is None:
        return ""
    # quoted as written (魯政字〔2020〕228號) when simplifying kept the length, as OpenCC does character by character
    original = head[match.start() : match.end()] if len(simplified) == len(head) else match.group(0)
    return re.sub(r"\s+", "", original)


def infer_published(text: str) -> str:
    """YYYY-MM-DD: a labelled date in the head (【公布日期】2021.09.27), else the date under the signature (a
    short line holding a date, near the top of a notice or at the end), else ""."""
    lines = _lines(text)
    head = to_simplified("\n".join(lines[: 2 * HEAD_LINES]))
    candidates = [m.groups() for m in _LABELLED_DATE.finditer(head)]
    for line in [*lines[: 2 * HEAD_LINES], *reversed(lines[-12:])]:
        match = _DATE.search(line) if len(line) <= 30 else None
        if match:
            candidates.append(match.groups())
    for year, month, day in candidates:
        if 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
            return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return ""


def infer_period(title: str) -> str:
    """The execution period a title states ("(2021-2023年)" → "2021-2023"), else ""."""
    match = _PERIOD.search(to_simplified(title))
    return f"{match.group(1)}-{match.group(2)}" if match and match.group(1) <= match.group(2) else ""


def infer_fields(text: str, *, title: str = "", issuer: str = "") -> InferredFields:
    """Every field the text shows. `title`/`issuer` (from front matter) are used for places and level when given."""
    found_title, notice_title = infer_title(text)
    title = title or found_title
    issuer = issuer or infer_issuer(text, title, notice_title)
    return InferredFields(
        title=found_title,
        notice_title=notice_title,
        issuer=issuer,
        doc_number=infer_doc_number(text),
        published=infer_published(text),
        period=infer_period(title),
        places=document_places(issuer, notice_title or title),
        jurisdiction=issuing_level(issuer, notice_title or title),
    )
