"""Policy documents and their loaders (Markdown with YAML front matter, .txt, .html, .docx, .pdf).

A bad file is reported with its name and skipped; it never aborts loading the rest.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from retrieval.metadata import MAX_TITLE_CHARS, infer_fields
from retrieval.places import canonical_place

# bump when documents are read differently (fields inferred from the text): indexes of older readers are rebuilt
READER_VERSION = 2
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n?", re.DOTALL)
_SAFE_ID = re.compile(r"[^0-9A-Za-z_\-\u4e00-\u9fff]+")


class DocumentError(ValueError):
    """A file that cannot be turned into a policy document; the message names the file."""


@dataclass(frozen=True)
class PolicyDocument:
    """One policy document: its metadata and its original body text (front matter removed)."""

    doc_id: str
    title: str
    text: str
    source: str
    doc_number: str = ""
    issuer: str = ""
    published: str = ""
    period: str = ""
    completeness: str = "complete"
    metadata: dict[str, Any] = field(default_factory=dict)
    # where and at which level it applies (front matter `places`/`jurisdiction`, else read from issuer and title)
    places: tuple[str, ...] = ()
    jurisdiction: str = ""

    @property
    def content_hash(self) -> str:
        """Changes whenever the text or any metadata changes: drives incremental indexing."""
        payload = yaml.safe_dump(
            # the summary holds what is read from the text too (places, level): better reading re-indexes
            {"text": self.text, "title": self.title, "meta": self.metadata, "summary": self.summary()},
            allow_unicode=True,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def period_end_year(self) -> int | None:
        match = re.search(r"(\d{4})\s*$", self.period)
        return int(match.group(1)) if match else None

    @property
    def is_partial(self) -> bool:
        return self.completeness == "partial"

    def summary(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "published": self.published,
            "period": self.period,
            "completeness": self.completeness,
            "completeness_note": str(self.metadata.get("completeness_note", "")),
            "places": list(self.places),
            "jurisdiction": self.jurisdiction,
            "notice_title": str(self.metadata.get("notice_title", "")),
            "status_as_published": str(self.metadata.get("status_as_published", "")),
            "effective": str(self.metadata.get("effective", "")),
        }


@dataclass(frozen=True)
class LoadError:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def doc_id_from_filename(path: Path) -> str:
    stem = _SAFE_ID.sub("-", path.stem).strip("-")
    return stem or "document"


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: not valid UTF-8 text (byte {exc.start})") from exc


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader without aliases: a few hundred bytes of nested `*a` references expand to gigabytes once
    the values are turned into strings (a "billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed in front matter", mark)
        return super().compose_node(parent, index)


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.load(match.group(1), Loader=_FrontMatterLoader) or {}
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        # ValueError: a date YAML recognises but the calendar does not (2021-13-45); RecursionError: nesting
        raise DocumentError(f"{name}: invalid YAML front matter ({exc.__class__.__name__})") from exc
    if not isinstance(meta, dict):
        raise DocumentError(f"{name}: front matter must be a mapping of fields")
    return meta, text[match.end() :]


class _HTMLText(HTMLParser):
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "title"}
    )
    _SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).splitlines()]
        return "\n".join(line for line in lines if line)


def _html_to_text(raw: str) -> tuple[str, str]:
    parser = _HTMLText()
    parser.feed(raw)
    parser.close()
    return parser.text(), parser.title.strip()


def _docx_to_text(raw: bytes, name: str) -> str:
    import zipfile

    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            total = sum(info.file_size for info in archive.infolist())
        if total > 200 * 1024 * 1024:
            raise DocumentError(
                f"{name}: .docx expands to {total // 2**20} MiB; refusing (possible zip bomb)"
            )
        # a damaged package can open and still fail while its paragraphs are read: both are "unreadable"
        document = docx.Document(io.BytesIO(raw))
        return "\n".join(p.text for p in document.paragraphs if p.text.strip())
    except DocumentError:
        raise
    except Exception as exc:
        raise DocumentError(f"{name}: not a readable .docx file ({exc.__class__.__name__})") from exc


def _pdf_to_text(raw: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not raw.startswith(b"%PDF"):
        raise DocumentError(f"{name}: not a PDF file (missing %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise DocumentError(f"{name}: the PDF is encrypted; provide an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, Exception) as exc:
        raise DocumentError(f"{name}: unreadable PDF ({exc.__class__.__name__})") from exc
    return "\n".join(pages)


def parse_document(raw: bytes, filename: str, *, doc_id: str | None = None) -> PolicyDocument:
    """Turn one file's bytes into a document; raise DocumentError with the file name if it cannot."""
    path = Path(filename)
    suffix = path.suffix.lower()
    name = path.name
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{name}: unsupported file type {suffix or '(none)'}; use one of {SUPPORTED_SUFFIXES}"
        )
    meta: dict[str, Any] = {}
    fallback_title = ""
    if suffix in (".md", ".markdown", ".txt"):
        meta, text = _split_front_matter(_decode(raw, name), name)
    elif suffix in (".html", ".htm"):
        text, fallback_title = _html_to_text(_decode(raw, name))
    elif suffix == ".docx":
        text = _docx_to_text(raw, name)
    else:
        text = _pdf_to_text(raw, name)
    if "\x00" in text:
        raise DocumentError(f"{name}: contains NUL bytes; not a text document")
    if not text.strip():
        raise DocumentError(f"{name}: no text found (empty file or scanned images without a text layer)")
    ident = str(meta.get("id") or doc_id or doc_id_from_filename(path))
    if _SAFE_ID.search(ident):
        raise DocumentError(f"{name}: document id {ident!r} may only hold letters, digits, '-', '_' and 汉字")
    declared_title = str(meta.get("title") or fallback_title or "")
    inferred = infer_fields(text, title=declared_title, issuer=str(meta.get("issuer", "") or ""))
    # never a paragraph: a declared title, the title line found in the text, else the file name
    title = declared_title or inferred.title or path.stem[:MAX_TITLE_CHARS]
    if inferred.notice_title and not meta.get("notice_title"):
        meta = {**meta, "notice_title": inferred.notice_title}
    return PolicyDocument(
        doc_id=ident,
        title=title,
        text=text,
        source=name,
        doc_number=str(meta.get("doc_number", "") or inferred.doc_number),
        issuer=str(meta.get("issuer", "") or inferred.issuer),
        published=str(meta.get("published", "") or inferred.published),
        period=str(meta.get("period", "") or inferred.period),
        completeness=str(meta.get("completeness", "complete") or "complete"),
        places=_declared_places(meta.get("places", meta.get("place"))) or inferred.places,
        jurisdiction=str(meta.get("jurisdiction", "") or inferred.jurisdiction),
        # string keys: the manifest is JSON and content_hash sorts them (`2021-01-01: x` is a date key)
        metadata={
            str(k): (v if isinstance(v, str | int | float | bool) else str(v)) for k, v in meta.items()
        },
    )


def _declared_places(value: Any) -> tuple[str, ...]:
    """`places: [苏州市, 江苏省]` or `place: 苏州市` in front matter, canonical (苏州, 江苏)."""
    if not value:
        return ()
    items = value if isinstance(value, list | tuple) else re.split(r"[,，、;；\s]+", str(value))
    return tuple(dict.fromkeys(canonical_place(str(v)) for v in items if str(v).strip()))


def load_file(path: Path) -> PolicyDocument:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    return parse_document(raw, path.name)


def iter_corpus_files(corpus_dir: Path) -> Iterable[Path]:
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and path.name.lower() != "readme.md":
            yield path


def load_corpus(corpus_dir: Path) -> tuple[list[PolicyDocument], list[LoadError]]:
    """Load every supported file under corpus_dir. Bad files come back as errors, never as exceptions."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus directory not found: {corpus_dir}")
    documents: list[PolicyDocument] = []
    errors: list[LoadError] = []
    seen: dict[str, str] = {}
    for path in iter_corpus_files(corpus_dir):
        try:
            document = load_file(path)
        except DocumentError as exc:
            errors.append(LoadError(str(path), str(exc)))
            continue
        if document.doc_id in seen:
            errors.append(
                LoadError(
                    str(path), f"duplicate document id {document.doc_id!r} (also {seen[document.doc_id]})"
                )
            )
            continue
        seen[document.doc_id] = path.name
        documents.append(document)
    return documents, errors
