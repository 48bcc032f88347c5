"""Loaders: Markdown front matter, plain text, HTML, .docx, .pdf, and bad files reported and skipped."""

from __future__ import annotations

import random
from pathlib import Path

import docx
import pytest

from retrieval.documents import (
    DocumentError,
    PolicyDocument,
    load_corpus,
    load_file,
    parse_document,
)
from tests.conftest import SHANDONG_OPINIONS, SHANDONG_PLAN, ZIBO

FRONT_MATTER_MD = """\
---
id: test-plan-2021
title: 测试市新型基础设施建设行动计划
issuer: 测试市人民政府办公室
doc_number: 测政办字〔2021〕1号
published: 2021-09-27
period: 2021-2023
completeness: partial
completeness_note: 仅收录前两节
topic: 基本建设
---
一、总体要求
加快建设5G网络。
"""


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one ASCII text line in Helvetica, xref offsets computed exactly."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def docx_bytes(tmp_path: Path, paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    path = tmp_path / "built.docx"
    document.save(str(path))
    return path.read_bytes()


# -- formats -----------------------------------------------------------------------------------------


def test_markdown_front_matter_fields_are_mapped(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "whatever-name.md", FRONT_MATTER_MD))
    assert doc.doc_id == "test-plan-2021"
    assert doc.title == "测试市新型基础设施建设行动计划"
    assert doc.doc_number == "测政办字〔2021〕1号"
    assert doc.issuer == "测试市人民政府办公室"
    assert doc.published == "2021-09-27"
    assert doc.period == "2021-2023"
    assert doc.completeness == "partial"
    assert doc.is_partial
    assert doc.period_end_year == 2023
    assert doc.source == "whatever-name.md"
    # the body is the text after the front matter, unchanged
    assert doc.text == "一、总体要求\n加快建设5G网络。\n"
    # every front-matter field survives as (string-able) metadata
    assert doc.metadata["topic"] == "基本建设"
    assert doc.summary()["completeness_note"] == "仅收录前两节"


def test_markdown_without_front_matter_uses_heading_and_file_name(tmp_path: Path) -> None:
    doc = load_file(
        write(tmp_path, "zibo policy (draft) 2021.md", "\n\n# 淄博市数字经济发展意见\n\n正文内容。\n")
    )
    assert doc.title == "淄博市数字经济发展意见"
    assert doc.doc_id == "zibo-policy-draft-2021"
    assert doc.doc_number == ""
    assert doc.completeness == "complete"
    assert not doc.is_partial


def test_title_falls_back_to_first_non_blank_line(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "通知.md", "   \n关于做好新基建工作的通知\n一、工作目标\n"))
    assert doc.title == "关于做好新基建工作的通知"
    assert doc.doc_id == "通知"


def test_plain_text_file(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "plain.txt", "山东省数字基础设施\n一、总体思路\n构建数字基础设施体系。"))
    assert doc.doc_id == "plain"
    assert doc.title == "山东省数字基础设施"
    assert "构建数字基础设施体系。" in doc.text


def test_html_drops_script_and_style_and_uses_title(tmp_path: Path) -> None:
    html = """<!doctype html>
<html><head><meta charset="utf-8"><title> 淄博市新基建政策解读 </title>
<style>.x { color: red; }</style><script>var tracker = "TRACKING";</script></head>
<body><h1>政策解读</h1><p>加快建设&nbsp;5G&amp;千兆光网。</p>
<script>alert("POPUP")</script><style>p { margin: 0 }</style>
<ul><li>第一条</li><li>第二条</li></ul></body></html>"""
    doc = load_file(write(tmp_path, "jiedu.html", html))
    assert doc.title == "淄博市新基建政策解读"
    assert doc.doc_id == "jiedu"
    for dropped in ("TRACKING", "POPUP", "color", "margin", "淄博市新基建政策解读"):
        assert dropped not in doc.text
    assert "政策解读" in doc.text
    assert "5G&千兆光网" in doc.text
    assert doc.text.splitlines()[-2:] == ["第一条", "第二条"]


def test_docx_with_chinese_text(tmp_path: Path) -> None:
    raw = docx_bytes(
        tmp_path, ["淄博市新型基础设施建设三年行动计划", "", "一、指导思想", "以信息网络为基础。"]
    )
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = load_file(write(corpus, "zibo-plan.docx", raw))
    assert doc.doc_id == "zibo-plan"
    assert doc.title == "淄博市新型基础设施建设三年行动计划"
    # empty paragraphs are dropped, the others kept in order
    assert doc.text.splitlines() == [
        "淄博市新型基础设施建设三年行动计划",
        "一、指导思想",
        "以信息网络为基础。",
    ]


def test_pdf_text_layer_is_extracted(tmp_path: Path) -> None:
    doc = load_file(write(tmp_path, "zibo-2021.pdf", minimal_pdf("Zibo policy 2021")))
    assert "Zibo policy 2021" in doc.text
    assert doc.title == "Zibo policy 2021"
    assert doc.doc_id == "zibo-2021"


def test_parse_document_takes_an_explicit_id_and_rejects_unsafe_ids() -> None:
    assert parse_document("正文".encode(), "a.md", doc_id="given-id").doc_id == "given-id"
    with pytest.raises(DocumentError, match=r"bad\.md.*document id"):
        parse_document("---\nid: ../etc/passwd\n---\n正文".encode(), "bad.md")


def test_content_hash_tracks_text_and_metadata() -> None:
    base = PolicyDocument(doc_id="d", title="t", text="正文", source="d.md", metadata={"a": 1})
    same = PolicyDocument(doc_id="d", title="t", text="正文", source="other.md", metadata={"a": 1})
    assert base.content_hash == same.content_hash
    assert base.content_hash != PolicyDocument("d", "t", "正文。", "d.md", metadata={"a": 1}).content_hash
    assert base.content_hash != PolicyDocument("d", "t", "正文", "d.md", metadata={"a": 2}).content_hash
    assert base.content_hash != PolicyDocument("d", "t2", "正文", "d.md", metadata={"a": 1}).content_hash


# -- bad files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("latin1.md", "政策".encode("gbk") + b"\xff\xfe", "not valid UTF-8"),
        ("empty.txt", b"", "no text found"),
        ("blank.md", "---\nid: blank\n---\n   \n\n", "no text found"),
        ("fake.pdf", b"<html>not a pdf</html>", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n" + random.Random(1).randbytes(64), "unreadable PDF"),
        ("random.docx", random.Random(2).randbytes(512), "not a readable .docx"),
        ("yaml.md", "---\ntitle: [unclosed\nid: x\n---\n正文", "invalid YAML front matter"),
        ("list.md", "---\n- a\n- b\n---\n正文", "front matter must be a mapping"),
        ("nul.txt", "正文\x00二进制".encode(), "NUL"),
        ("notes.csv", b"a,b\n1,2\n", "unsupported file type"),
    ],
)
def test_bad_file_raises_document_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    with pytest.raises(DocumentError) as excinfo:
        load_file(write(tmp_path, name, content))
    message = str(excinfo.value)
    assert message.startswith(f"{name}: ")
    assert reason in message


def test_load_corpus_reports_bad_files_and_loads_the_rest(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "a-good.md", FRONT_MATTER_MD)
    write(corpus, "b-plain.txt", "纯文本政策\n内容。")
    write(corpus, "c-page.html", "<title>网页</title><p>网页正文。</p>")
    write(corpus, "d-word.docx", docx_bytes(tmp_path, ["文档标题", "文档正文。"]))
    write(corpus, "e-scan.pdf", minimal_pdf("Zibo policy 2021"))
    bad = {
        "bad-utf8.md": b"\xc3\x28 invalid",
        "bad-empty.txt": b"",
        "bad-fake.pdf": b"GIF89a not a pdf",
        "bad-corrupt.docx": random.Random(3).randbytes(1024),
        "bad-yaml.md": "---\nid: [oops\n---\n正文".encode(),
        # same id as a-good.md, sorted after it: the later file is the duplicate
        "z-duplicate.md": FRONT_MATTER_MD.replace("一、总体要求", "一、另一份").encode(),
    }
    for name, content in bad.items():
        write(corpus, name, content)
    write(corpus, "ignored.csv", "a,b\n")
    write(corpus, "image.png", b"\x89PNG\r\n")
    write(corpus, "README.md", "# 说明\n")
    nested = corpus / "sub"
    nested.mkdir()
    write(nested, "f-nested.md", "嵌套目录中的文件\n正文。")

    documents, errors = load_corpus(corpus)

    assert sorted(d.doc_id for d in documents) == sorted(
        ["test-plan-2021", "b-plain", "c-page", "d-word", "e-scan", "f-nested"]
    )
    assert next(d for d in documents if d.doc_id == "test-plan-2021").source == "a-good.md"
    reported = {Path(e.path).name: e.reason for e in errors}
    assert set(reported) == set(bad)
    for error in errors:
        assert Path(error.path).name in str(error), "each report names its file"
    assert "duplicate document id 'test-plan-2021'" in reported["z-duplicate.md"]
    assert "a-good.md" in reported["z-duplicate.md"]
    assert "UTF-8" in reported["bad-utf8.md"]
    assert "YAML" in reported["bad-yaml.md"]


def test_load_corpus_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "nope")


# -- the shipped corpus --------------------------------------------------------------------------------


def test_shipped_corpus_loads(corpus_dir: Path) -> None:
    documents, errors = load_corpus(corpus_dir)
    assert errors == []
    by_id = {d.doc_id: d for d in documents}
    assert set(by_id) == {ZIBO, SHANDONG_PLAN, SHANDONG_OPINIONS}

    zibo = by_id[ZIBO]
    assert zibo.doc_number == "淄政办字〔2021〕78号"
    assert zibo.title == "淄博市新型基础设施建设三年行动计划(2021-2023年)"
    assert zibo.issuer == "淄博市人民政府办公室"
    assert zibo.published == "2021-09-27"
    assert zibo.period_end_year == 2023
    assert zibo.is_partial
    assert "【字 号】淄政办字〔2021〕78号" in zibo.text
    assert not zibo.text.startswith("---")

    plan = by_id[SHANDONG_PLAN]
    assert plan.doc_number == "鲁政字〔2020〕228号"
    assert plan.issuer == "山东省人民政府"
    # the body keeps its original traditional characters
    assert "魯政字〔2020〕228號" in plan.text

    opinions = by_id[SHANDONG_OPINIONS]
    assert opinions.doc_number == ""
    assert opinions.issuer == "山东省人民政府办公厅"
    assert opinions.is_partial


def test_docx_whose_main_part_is_not_a_document_is_a_document_error() -> None:
    """Found by the loader fuzzing: the package opens, reading its paragraphs fails."""
    import io
    import zipfile

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                data = (
                    b'<?xml version="1.0" encoding="UTF-8"?>'
                    b'<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'
                )
            target.writestr(item, data)
    with pytest.raises(DocumentError, match=r"not a readable \.docx"):
        parse_document(damaged.getvalue(), "damaged.docx")
