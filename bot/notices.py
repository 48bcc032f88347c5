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
