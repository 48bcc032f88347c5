"""Fuzzing the loaders: whatever bytes arrive under whatever name, parse_document returns a usable
PolicyDocument or raises DocumentError naming the file; never another exception.

Markdown/.txt with YAML front matter, HTML, .docx and .pdf each get generated and mutated inputs; a
parsed document must also hash, serialise to JSON (the index manifest) and chunk. `make reliability`
counts the inputs tried per target (evals/reliability_plugin.py)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrieval.chunking import chunk_document
from retrieval.documents import SUPPORTED_SUFFIXES, DocumentError, PolicyDocument, parse_document
from tests.retrieval.test_documents import FRONT_MATTER_MD, minimal_pdf

SAFE_ID = re.compile(r"^[0-9A-Za-z_\-\u4e00-\u9fff]+$")
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parsed_or_document_error(raw: bytes, filename: str) -> PolicyDocument | None:
    """The property every loader keeps; any other exception fails the test (and counts as a crash)."""
    try:
        document = parse_document(raw, filename)
    except DocumentError as exc:
        assert str(exc).startswith(f"{Path(filename).name}: "), str(exc)
        return None
    assert document.text.strip() and "\x00" not in document.text
    assert SAFE_ID.match(document.doc_id), document.doc_id
    assert len(document.content_hash) == 64
    json.dumps({"summary": document.summary(), "metadata": document.metadata}, ensure_ascii=False)
    chunk_document(document)
    return document


# -- Markdown / plain text: arbitrary bytes, and front matter built from YAML-ish pieces ---------------

text_suffix = st.sampled_from([".md", ".markdown", ".txt", ".MD"])


@settings(FUZZ, max_examples=300)
@given(raw=st.binary(max_size=2000), suffix=text_suffix)
@example(raw="\ufeff---\nid: x\n---\n正文".encode(), suffix=".md")
@example(raw="政策".encode("gbk"), suffix=".txt")
def test_text_loaders_on_arbitrary_bytes(raw: bytes, suffix: str) -> None:
    parsed_or_document_error(raw, f"fuzz{suffix}")


yaml_value = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "2021-09-27",
            "2021-13-45",  # looks like a YAML date, is not one
            "2021-02-30",
            "1e400",
            ".nan",
            "~",
            "[a, b]",
            "{k: v}",
            "[" * 200,  # nesting deeper than the parser's recursion
            "&a [*a]",
            "!!binary abc",
            "!!python/object:os.system x",
            "|\n  多行\n  文本",
            "'未闭合",
            '"\\x00"',
            "测政办字〔2021〕1号",
        ]
    ),
)
yaml_key = st.one_of(
    st.sampled_from(["id", "title", "issuer", "doc_number", "published", "period", "completeness"]),
    st.sampled_from(["2021-01-01", "1", "null", "true", "? [a]", "- x", "<<", ""]),
    st.text(max_size=12),
)
front_matter = st.lists(st.builds(lambda k, v: f"{k}: {v}", yaml_key, yaml_value), max_size=8).map("\n".join)
body = st.one_of(
    st.text(max_size=300), st.sampled_from(["", "一、总体要求\n加快建设5G网络。", "\x00", " \n"])
)


@settings(FUZZ, max_examples=300)
@given(
    meta=st.one_of(front_matter, st.text(max_size=200)),
    body=body,
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    suffix=text_suffix,
)
@example(meta="published: 2021-13-45", body="正文", newline="\n", bom=False, suffix=".md")
@example(meta="[" * 2000, body="正文", newline="\n", bom=False, suffix=".md")
@example(meta="2021-01-01: a\nb: c", body="正文", newline="\n", bom=False, suffix=".md")
def test_markdown_front_matter(meta: str, body: str, newline: str, bom: bool, suffix: str) -> None:
    text = newline.join(["---", meta, "---", body])
    parsed_or_document_error(
        ("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass"), f"f{suffix}"
    )


# -- HTML ---------------------------------------------------------------------------------------------

html_piece = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["p", "div", "br", "title", "script", "style", "head", "li", "h1", "x-y", ""]).flatmap(
        lambda tag: st.sampled_from([f"<{tag}>", f"</{tag}>", f"<{tag} a='1' b>", f"<{tag}/>"])
    ),
    st.sampled_from(
        [
            "&amp;",
            "&#0;",
            "&#x110000;",
            "&#xD800;",
            "&nbsp",
            "&unknown;",
            "<!--",
            "-->",
            "<![CDATA[",
            "<!DOCTYPE html>",
            "<?xml?>",
            "<",
            ">",
        ]
    ),
)


@settings(FUZZ, max_examples=200)
@given(pieces=st.lists(html_piece, max_size=40), suffix=st.sampled_from([".html", ".htm"]))
def test_html_loader(pieces: list[str], suffix: str) -> None:
    parsed_or_document_error("".join(pieces).encode("utf-8", "surrogatepass"), f"page{suffix}")


# -- .docx: a real document mutated, and zip archives with arbitrary members ----------------------------


def _docx() -> bytes:
    document = docx.Document()
    for paragraph in ["测试市新型基础设施建设行动计划", "一、总体要求", "加快建设5G网络。"]:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX = _docx()
PDF = minimal_pdf("Zibo policy 2021")


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """base with a few bytes overwritten, a slice removed or inserted, or truncated."""
    data = bytearray(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "flip", "cut", "insert", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(min_value=1, max_value=64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return bytes(data)


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


DOCX_MEMBERS = _members(DOCX)


@st.composite
def docx_member_mutated(draw: st.DrawFn) -> bytes:
    """A valid archive (CRCs right) whose document.xml, [Content_Types].xml or a .rels part is mutated."""
    name = draw(
        st.sampled_from(["word/document.xml", "word/document.xml", "[Content_Types].xml", "_rels/.rels"])
    )
    members = {**DOCX_MEMBERS, name: draw(mutated(DOCX_MEMBERS[name]))}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return out.getvalue()


@st.composite
def zip_archive(draw: st.DrawFn) -> bytes:
    names = ["[Content_Types].xml", "word/document.xml", "_rels/.rels", "word/_rels/document.xml.rels"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # a name zipfile can store (it cuts at NUL and drops leading slashes; an empty name is its own error)
        stored = st.text(min_size=1, max_size=20).filter(lambda n: n.split("\x00")[0].lstrip("/"))
        member_names = st.one_of(st.sampled_from(names), stored)
        for name in draw(st.lists(member_names, max_size=5, unique=True)):
            content = draw(
                st.one_of(
                    st.binary(max_size=200),
                    st.sampled_from(
                        [
                            b'<?xml version="1.0"?><Types/>',
                            b"<w:document><w:body><w:p><w:r><w:t>\xe6\xad\xa3</w:t></w:r></w:p></w:body></w:document>",
                            b"<!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><x>&b;</x>",
                        ]
                    ),
                )
            )
            archive.writestr(name, content)
    return out.getvalue()


@settings(FUZZ, max_examples=200)
@given(raw=st.one_of(docx_member_mutated(), mutated(DOCX), zip_archive(), st.binary(max_size=500)))
@example(raw=DOCX)
def test_docx_loader(raw: bytes) -> None:
    parsed_or_document_error(raw, "fuzz.docx")


# -- .pdf: a real one-page PDF mutated, and %PDF followed by anything ----------------------------------


@settings(FUZZ, max_examples=200)
@given(
    raw=st.one_of(
        mutated(PDF), st.binary(max_size=400).map(lambda b: b"%PDF-1.4\n" + b), st.binary(max_size=200)
    )
)
@example(raw=PDF)
def test_pdf_loader(raw: bytes) -> None:
    parsed_or_document_error(raw, "fuzz.pdf")


# -- any name, any bytes --------------------------------------------------------------------------------


@settings(FUZZ, max_examples=200)
@given(
    stem=st.text(max_size=20),
    suffix=st.one_of(st.sampled_from([*SUPPORTED_SUFFIXES, ".csv", ".PDF", ""]), st.text(max_size=6)),
    raw=st.one_of(st.binary(max_size=300), st.just(FRONT_MATTER_MD.encode())),
)
def test_any_name_and_bytes(stem: str, suffix: str, raw: bytes) -> None:
    parsed_or_document_error(raw, stem + suffix)


# -- what fuzzing found ----------------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    ['a0: &a0 ["xxxxxxxxxx"]'] + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
)


@pytest.mark.parametrize(
    "meta",
    [
        "published: 2021-13-45",  # was ValueError from the date constructor
        "id: " + "[" * 2000,  # was RecursionError
        BILLION_LAUGHS,  # 400 bytes that str() expanded to gigabytes
    ],
    ids=["impossible date", "deep nesting", "alias expansion"],
)
def test_front_matter_yaml_cannot_build_is_a_document_error(meta: str) -> None:
    with pytest.raises(DocumentError, match="invalid YAML front matter"):
        parse_document(f"---\n{meta}\n---\n正文".encode(), "bad.md")


def test_front_matter_keys_become_strings() -> None:
    document = parse_document("---\n2021-01-01: a\ntrue: b\n3: c\nid: keys\n---\n正文".encode(), "k.md")
    assert document.metadata == {"2021-01-01": "a", "True": "b", "3": "c", "id": "keys"}
    assert len(document.content_hash) == 64  # sorting mixed key types used to raise TypeError
