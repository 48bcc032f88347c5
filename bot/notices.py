"""Notices shown beside an answer: partial documents and plans whose period has ended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

PARTIAL = "《{title}》：本库仅收录该文件的部分内容，未收录部分无法作答。"
ENDED = "《{title}》的执行期为{period}年，已结束（截至{today}）；请以现行政策为准。"


def document_notices(summaries: Iterable[dict[str, Any]], today: dt.date) -> list[str]:
    notices: list[str] = []
    for summary in summaries:
        title = summary.get("title", "")
        period = str(summary.get("period") or "")
        end = period.rsplit("-", 1)[-1] if period else ""
        if end.isdigit() and int(end) < today.year:
            notices.append(ENDED.format(title=title, period=period, today=today.isoformat()))
        if summary.get("completeness") == "partial":
            notices.append(PARTIAL.format(title=title))
    return notices


def validity_statement(summary: dict[str, Any], today: dt.date) -> str:
    """What a document's own fields and today's date say about whether it still applies: its status as published
    and whether its execution period has ended (today's date itself is in the answer's notices). "" when the
    document states neither."""
    title = summary.get("title", "")
    status = str(summary.get("status_as_published") or "")
    period = str(summary.get("period") or "")
    parts: list[str] = []
    if status:
        parts.append(f"发布时标注的时效性为“{status}”")
    start, _, end = period.partition("-")
    if end.isdigit():
        if int(end) < today.year:
            parts.append(f"其执行期为{start}—{end}年，已于{end}年底结束")
        else:
            parts.append(f"其执行期为{start}—{end}年，目前仍在执行期内")
    if not parts:
        return ""
    return f"《{title}》" + "；".join(parts) + "。"
