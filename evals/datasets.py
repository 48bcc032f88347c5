"""Eval datasets (JSONL): the two item formats, loading with line-numbered errors, format detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

DATASETS_DIR = Path(__file__).parent / "datasets"
RETRIEVAL_DATASET = DATASETS_DIR / "retrieval.jsonl"
QA_DATASET = DATASETS_DIR / "qa.jsonl"
# the frozen test split (same format as qa.jsonl) and paraphrases of dev items, written blind; never tuned on
QA_TEST_DATASET = DATASETS_DIR / "qa_test.jsonl"
PARAPHRASE_DATASET = DATASETS_DIR / "paraphrases.jsonl"
PARAPHRASE_STYLES = ("other_words", "colloquial", "longer", "shorter", "traditional", "english")

DatasetKind = Literal["retrieval", "qa"]
QA_FIELDS = ("id", "type", "question", "answerable", "expect_all", "expect_none", "evidence", "turns")
RETRIEVAL_FIELDS = ("id", "type", "query", "gold")


class DatasetError(ValueError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


class GoldSection(BaseModel):
    doc_id: str = Field(min_length=1)
    section_path: str = Field(min_length=1)


class RetrievalItem(BaseModel):
    id: str = Field(min_length=1)
    type: str
    query: str = Field(min_length=1)
    gold: list[GoldSection] = Field(min_length=1)


class Evidence(BaseModel):
    doc_id: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class QAItem(BaseModel):
    id: str = Field(min_length=1)
    type: str
    question: str = Field(min_length=1)
    answerable: bool
    expect_all: list[list[str]] = Field(default_factory=list)
    expect_none: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    turns: list[str] | None = None
    needs_review: bool = False

    @model_validator(mode="before")
    @classmethod
    def _not_a_draft(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("needs_review"):
            raise ValueError(
                "needs_review is set: a draft; complete answerable, expect_all and evidence, then remove needs_review"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> QAItem:
        if self.turns is not None:
            if len(self.turns) < 2:
                raise ValueError("turns needs at least two questions")
            if self.turns[-1] != self.question:
                raise ValueError("the last turn must equal question")
        if any(not group or any(not alt for alt in group) for group in self.expect_all):
            raise ValueError("expect_all groups must not be empty")
        if any(not s for s in self.expect_none):
            raise ValueError("expect_none strings must not be empty")
        return self

    @property
    def conversation(self) -> list[str]:
        return self.turns or [self.question]

    @property
    def multi_turn(self) -> bool:
        return bool(self.turns)


class ParaphraseItem(QAItem):
    """A QA item that rephrases a dev item (`paraphrase_of`: its id in qa.jsonl) in one `style`."""

    paraphrase_of: str = Field(min_length=1)
    style: Literal["other_words", "colloquial", "longer", "shorter", "traditional", "english"]


def _format_error(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in exc.errors())


def iter_lines(path: Path) -> list[tuple[int, str]]:
    return [
        (number, line)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip()
    ]


def load_jsonl(path: Path, model: type[BaseModel], *, default_ids: bool = False) -> list[Any]:
    """All items of a dataset, or a DatasetError listing every problem with its line number."""
    items, problems = parse_jsonl(path, model, default_ids=default_ids)
    if problems:
        raise DatasetError(path, problems)
    return items


def parse_jsonl(
    path: Path, model: type[BaseModel], *, default_ids: bool = False
) -> tuple[list[Any], list[str]]:
    """Valid items and line-numbered problems (invalid JSON, schema, duplicate ids). With `default_ids`, an
    item without `id` gets `line<N>` and a numeric id becomes a string (for formats where id is optional)."""
    if not path.is_file():
        return [], [f"{path}: file not found"]
    items: list[Any] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in iter_lines(path):
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        if default_ids:
            data["id"] = str(data.get("id", f"line{number}"))
        try:
            item = model.model_validate(data)
        except ValidationError as exc:
            problems.append(f"line {number}: {_format_error(exc)}")
            continue
        identifier = item.id  # type: ignore[attr-defined]
        if identifier in seen:
            problems.append(f"line {number}: duplicate id {identifier!r} (first on line {seen[identifier]})")
            continue
        seen[identifier] = number
        items.append(item)
    return items, problems


def detect_format(path: Path) -> DatasetKind:
    """`retrieval` (items with query/gold) or `qa` (items with question/answerable), from the first object."""
    if not path.is_file():
        raise DatasetError(path, [f"{path}: file not found"])
    for number, line in iter_lines(path):
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                path, [f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})"]
            ) from exc
        if isinstance(data, dict):
            if "query" in data or "gold" in data:
                return "retrieval"
            if "question" in data or "answerable" in data:
                return "qa"
        raise DatasetError(
            path,
            [f"line {number}: neither a retrieval item (query, gold) nor a QA item (question, answerable)"],
        )
    raise DatasetError(path, [f"{path}: the dataset is empty"])
