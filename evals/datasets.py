"""Loading eval datasets (JSONL) with line-numbered errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

DATASETS_DIR = Path(__file__).parent / "datasets"
RETRIEVAL_DATASET = DATASETS_DIR / "retrieval.jsonl"
QA_DATASET = DATASETS_DIR / "qa.jsonl"


class DatasetError(ValueError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(problems))


class GoldSection(BaseModel):
    doc_id: str
    section_path: str


class RetrievalItem(BaseModel):
    id: str
    type: str
    query: str = Field(min_length=1)
    gold: list[GoldSection] = Field(min_length=1)


class Evidence(BaseModel):
    doc_id: str
    quote: str = Field(min_length=1)


class QAItem(BaseModel):
    id: str
    type: str
    question: str = Field(min_length=1)
    answerable: bool
    expect_all: list[list[str]] = Field(default_factory=list)
    expect_none: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    turns: list[str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> QAItem:
        if self.turns is not None:
            if len(self.turns) < 2:
                raise ValueError("turns needs at least two questions")
            if self.turns[-1] != self.question:
                raise ValueError("the last turn must equal question")
        if any(not group for group in self.expect_all):
            raise ValueError("expect_all groups must not be empty")
        return self

    @property
    def conversation(self) -> list[str]:
        return self.turns or [self.question]


def load_jsonl(path: Path, model: type[BaseModel]) -> list[Any]:
    if not path.is_file():
        raise DatasetError(path, [f"{path}: file not found"])
    items: list[Any] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = model.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in exc.errors())
            problems.append(f"line {number}: {details}")
            continue
        identifier = item.id  # type: ignore[attr-defined]
        if identifier in seen:
            problems.append(f"line {number}: duplicate id {identifier!r} (first on line {seen[identifier]})")
            continue
        seen[identifier] = number
        items.append(item)
    if problems:
        raise DatasetError(path, problems)
    return items
