"""Corpus copies for the bring-your-own-corpus evaluation: the corpus's own text units (articles 第…条, or
paragraphs), a copy without the units that hold given references (evidence removed), and a copy written out
one plain-text file per unit without front matter (a "library of plain-text documents")."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import reference_form
from retrieval.documents import SUPPORTED_SUFFIXES

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
# a line that starts an article: 第十七条 / 第17条 (the chapter and section headings 第二章 / 第一节 are not units)
_ARTICLE = re.compile(r"^[ \t\u3000]*第[零〇一二三四五六七八九十百千万两\d]+条", re.M)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")
# a reference may straddle neighbouring units (two articles, two paragraphs): look at up to this many together
MAX_UNITS_PER_REFERENCE = 3


@dataclass(frozen=True)
class TextUnit:
    """One unit of a document body: [start, end) offsets into the body (front matter excluded)."""

    path: Path
    index: int
    start: int
    end: int
    text: str


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter including its --- lines, body); the front matter is '' when there is none."""
    match = _FRONT_MATTER.match(text)
    return (match.group(0), text[match.end() :]) if match else ("", text)


def unit_spans(body: str) -> list[tuple[int, int]]:
    """The body's own units as (start, end): from each line starting with 第…条 to the next one (text before
    the first article is a unit of its own) when the body has such lines; else paragraphs separated by blank
    lines, or lines when it has no blank lines. Spans are contiguous and cover the whole body."""
    starts = [m.start() for m in _ARTICLE.finditer(body)]
    if not starts:
        starts = [m.end() for m in _BLANK_LINE.finditer(body)]
        if not starts:
            starts = [m.end() for m in re.finditer(r"\n", body)]
    bounds = sorted({0, *starts, len(body)})
    return [(a, b) for a, b in itertools.pairwise(bounds) if body[a:b].strip()]


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    )


def text_units(corpus_dir: Path) -> list[TextUnit]:
    """Every unit of every text document (.md/.markdown/.txt) of a corpus, in file order."""
    units: list[TextUnit] = []
    for path in corpus_files(corpus_dir):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        _, body = split_front_matter(path.read_text(encoding="utf-8-sig"))
        for i, (start, end) in enumerate(unit_spans(body)):
            units.append(TextUnit(path, i, start, end, body[start:end]))
    return units


def header_texts(corpus_dir: Path) -> list[str]:
    """The front matter of every text document of a corpus (in `reference_form`): fields the answerer may quote
    (a document's 文号, issuer, date) that no removal of body units takes away."""
    headers = []
    for path in corpus_files(corpus_dir):
        if path.suffix.lower() in TEXT_SUFFIXES:
            header, _ = split_front_matter(path.read_text(encoding="utf-8-sig"))
            if header:
                headers.append(reference_form(header))
    return headers


def units_holding(units: Sequence[TextUnit], reference: str) -> list[TextUnit]:
    """Every unit (or run of up to MAX_UNITS_PER_REFERENCE neighbouring units of one file) whose text holds
    the reference in `reference_form`; all occurrences in the corpus, so that none is left to answer from."""
    ref = reference_form(reference)
    if not ref:
        return []
    forms = [reference_form(u.text) for u in units]
    found: dict[tuple[Path, int], TextUnit] = {}
    i = 0
    while i < len(units):
        for width in range(1, MAX_UNITS_PER_REFERENCE + 1):
            window = units[i : i + width]
            if len(window) < width or window[-1].path != units[i].path:
                break
            if ref in "".join(forms[i : i + width]):
                # a minimal run only: not when the units after the first already hold it on their own
                if not (width > 1 and ref in "".join(forms[i + 1 : i + width])):
                    found.update({(u.path, u.index): u for u in window})
                break
        i += 1
    return list(found.values())


def write_without_units(corpus_dir: Path, out_dir: Path, removed: Iterable[TextUnit]) -> int:
    """Copy a corpus into out_dir without the given units (front matter and every other unit kept byte for
    byte; other files copied unchanged). Returns the number of units removed."""
    by_file: dict[Path, set[int]] = {}
    for unit in removed:
        by_file.setdefault(unit.path, set()).add(unit.index)
    count = 0
    for path in corpus_files(corpus_dir):
        target = out_dir / path.relative_to(corpus_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        drop = by_file.get(path)
        if not drop:
            shutil.copyfile(path, target)
            continue
        head, body = split_front_matter(path.read_text(encoding="utf-8-sig"))
        kept = [body[a:b] for i, (a, b) in enumerate(unit_spans(body)) if i not in drop]
        count += len(drop)
        if kept:  # a document left without any unit is left out (an empty file is not a document)
            target.write_text(head + "".join(kept), encoding="utf-8")
    return count


def write_plain_files(corpus_dir: Path, out_dir: Path) -> int:
    """Write every unit of every text document as its own .txt file without front matter
    (`<document>-<nnnn>.txt`); other formats are copied unchanged. Returns the number of files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in corpus_files(corpus_dir):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            shutil.copyfile(path, out_dir / path.name)
            count += 1
            continue
        _, body = split_front_matter(path.read_text(encoding="utf-8-sig"))
        stem = "-".join(path.relative_to(corpus_dir).with_suffix("").parts)
        for i, (a, b) in enumerate(unit_spans(body), 1):
            (out_dir / f"{stem}-{i:04d}.txt").write_text(body[a:b].strip() + "\n", encoding="utf-8")
            count += 1
    return count
