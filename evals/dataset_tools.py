"""Dataset tools for evaluators: check a dataset against the corpus and index, round-trip QA datasets
through CSV (for spreadsheets), and turn thumbs-down feedback into draft QA items."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evals.datasets import (
    QA_FIELDS,
    RETRIEVAL_FIELDS,
    DatasetError,
    QAItem,
    RetrievalItem,
    detect_format,
    iter_lines,
    parse_jsonl,
)
from evals.metrics import section_matches
from retrieval.normalize import compact


# -- check-dataset -------------------------------------------------------------------------------------
def check_dataset(
    path: Path, documents: dict[str, str], sections: Iterable[tuple[str, str]]
) -> tuple[str, list[str], list[str]]:
    """(format, errors, warnings). `documents` maps doc_id → corpus text; `sections` are the index's
    (doc_id, section_path) pairs. Errors carry the line number of the item."""
    try:
        kind = detect_format(path)
    except DatasetError as exc:
        return "unknown", exc.problems, []
    model = RetrievalItem if kind == "retrieval" else QAItem
    known_fields = set(RETRIEVAL_FIELDS if kind == "retrieval" else (*QA_FIELDS, "needs_review"))
    _, problems = parse_jsonl(path, model)
    errors = list(problems)
    warnings: list[str] = []
    section_list = list(sections)
    for number, line in iter_lines(path):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue  # already reported
        if not isinstance(data, dict):
            continue
        unknown = sorted(set(data) - known_fields)
        if unknown:
            warnings.append(f"line {number}: unknown field(s) {', '.join(unknown)} (ignored by the eval)")
        if kind == "qa":
            for i, evidence in enumerate(data.get("evidence") or []):
                if not isinstance(evidence, dict):
                    continue
                doc_id, quote = evidence.get("doc_id"), evidence.get("quote")
                if not isinstance(doc_id, str) or not isinstance(quote, str):
                    continue
                if doc_id not in documents:
                    errors.append(f"line {number}: evidence[{i}].doc_id {doc_id!r} is not a known document")
                elif quote and quote not in documents[doc_id]:
                    hint = (
                        " (it matches only after normalisation: copy the document's exact characters)"
                        if compact(quote) in compact(documents[doc_id])
                        else ""
                    )
                    errors.append(
                        f"line {number}: evidence[{i}].quote not found verbatim in {doc_id}{hint}: {quote!r}"
                    )
        else:
            for i, gold in enumerate(data.get("gold") or []):
                if not isinstance(gold, dict):
                    continue
                doc_id, section = gold.get("doc_id"), gold.get("section_path")
                if not isinstance(doc_id, str) or not isinstance(section, str):
                    continue
                if doc_id not in documents:
                    errors.append(f"line {number}: gold[{i}].doc_id {doc_id!r} is not a known document")
                elif section and not any(section_matches(d, p, doc_id, section) for d, p in section_list):
                    errors.append(
                        f"line {number}: gold[{i}].section_path {section!r} is not a section of {doc_id}"
                    )
    errors.sort(key=_line_key)
    return kind, errors, warnings


def _line_key(message: str) -> int:
    head = message.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


# -- CSV round trip --------------------------------------------------------------------------------------
LIST_FIELDS = ("expect_all", "expect_none", "evidence", "turns")


def _cell(value: Any) -> str:
    """A CSV cell: strings as they are (JSON-quoted only when they would read back as JSON), everything
    else as JSON."""
    if value == "":
        return '""'
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def export_csv(jsonl: Path, out: Path) -> int:
    """Write a QA dataset as CSV: one row per item, lists as JSON in their cells, extra fields as columns."""
    rows = [json.loads(line) for _, line in iter_lines(jsonl)]
    extras: list[str] = []
    for row in rows:
        extras += [k for k in row if k not in QA_FIELDS and k not in extras]
    columns = [*QA_FIELDS, *extras]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel opens UTF-8 correctly
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            cells = []
            for column in columns:
                if column not in row:
                    cells.append("")
                elif column in ("id", "type", "question") and isinstance(row[column], str):
                    cells.append(row[column])
                elif column == "answerable":
                    cells.append("" if row[column] is None else json.dumps(row[column]))
                else:
                    cells.append(_cell(row[column]))
            writer.writerow(cells)
    return len(rows)


_TRUE = {"true", "yes", "y", "1", "是", "可回答", "t"}
_FALSE = {"false", "no", "n", "0", "否", "不可回答", "f"}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split("|") if part.strip()]


def _parse_list(column: str, text: str) -> Any:
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)
    parts = _split(text)
    if column == "expect_all":  # groups separated by |, alternatives within a group by ;
        return [[alt.strip() for alt in part.split(";") if alt.strip()] for part in parts]
    if column == "evidence":  # doc_id: quote | doc_id: quote
        evidence = []
        for part in parts:
            doc_id, sep, quote = part.partition(":")
            if not sep:
                raise ValueError(f"evidence {part!r} is not 'doc_id: quote'")
            evidence.append({"doc_id": doc_id.strip(), "quote": quote.strip()})
        return evidence
    return parts


def import_csv(csv_path: Path, out: Path) -> tuple[int, list[str]]:
    """CSV (as written by export_csv, or hand-made with `|`-separated lists) → QA JSONL.
    Returns (items written, problems); nothing is written when there are problems."""
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in ("id", "question") if c not in columns]
        if missing:
            return 0, [f"{csv_path}: missing column(s) {', '.join(missing)}"]
        items: list[dict[str, Any]] = []
        problems: list[str] = []
        for row in reader:
            number = reader.line_num
            item: dict[str, Any] = {}
            try:
                for column in columns:
                    raw = row.get(column) or ""
                    if column in ("id", "type", "question"):
                        item[column] = raw
                    elif column == "answerable":
                        flag = raw.strip().lower()
                        if flag in _TRUE:
                            item[column] = True
                        elif flag in _FALSE:
                            item[column] = False
                        elif not flag:
                            item[column] = None
                        else:
                            raise ValueError(f"answerable {raw!r} is not true/false")
                    elif column in LIST_FIELDS:
                        if column == "turns" and not raw.strip():
                            continue
                        item[column] = _parse_list(column, raw) if raw.strip() else []
                    elif raw != "":
                        try:
                            item[column] = json.loads(raw)
                        except ValueError:
                            item[column] = raw
            except (ValueError, json.JSONDecodeError) as exc:
                problems.append(f"row at line {number}: {exc}")
                continue
            items.append(item)
    if problems:
        return 0, problems
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(items), []


# -- feedback → draft items ----------------------------------------------------------------------------------
def export_feedback(db: Path) -> tuple[list[dict[str, Any]], int]:
    """Draft QA items from thumbs-down feedback (API and Telegram) joined with the logged answers (the
    answer log both surfaces write, bot/storage/feedback.py). Returns (drafts, thumbs-down answers skipped
    because their answer was not logged)."""
    if not db.is_file():
        return [], 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "feedback" not in tables:
            return [], 0
        columns = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
        source = "source" if "source" in columns else "''"
        rows = conn.execute(
            f"SELECT answer_id, rating, comment, {source}, created FROM feedback ORDER BY created, rowid"
        ).fetchall()
        answers: dict[str, dict[str, Any]] = {}
        if "answers" in tables:
            for answer_id, answer_json in conn.execute("SELECT answer_id, answer_json FROM answers"):
                try:
                    answers[answer_id] = json.loads(answer_json)
                except ValueError:
                    continue
    finally:
        conn.close()
    down = list(dict.fromkeys(r[0] for r in rows if r[1] == "down" and r[0]))
    drafts, skipped = [], 0
    for answer_id in down:
        logged = answers.get(answer_id)
        if logged is None:
            skipped += 1
            continue
        related = [r for r in rows if r[0] == answer_id]
        comments = [r[2] for r in related if r[2]]
        drafts.append(
            {
                "id": f"fb-{answer_id[:12]}",
                "type": "feedback",
                "question": logged.get("question") or logged.get("standalone_question") or "",
                "answerable": None,
                "expect_all": [],
                "expect_none": [],
                "evidence": [],
                "needs_review": True,
                "answer_given": logged.get("answer", ""),
                "refused": logged.get("refused", False),
                "citations_given": [
                    {k: c.get(k) for k in ("n", "doc_id", "section_path", "quote")}
                    for c in logged.get("citations", [])
                ],
                "comment": "\n".join(comments),
                "feedback": {
                    "answer_id": answer_id,
                    "mode": logged.get("mode"),
                    "sources": sorted({r[3] for r in related if r[3]}),
                    "created": related[0][4],
                },
            }
        )
    return drafts, skipped
