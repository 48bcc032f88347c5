"""Structure-aware chunking: properties on synthetic policy documents, examples on the real corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrieval.chunking import (
    FILE_INFO,
    NOTICE,
    PATH_SEPARATOR,
    PREAMBLE,
    Chunk,
    chunk_document,
    heading_label,
    heading_level,
)
from retrieval.documents import PolicyDocument, load_corpus, parse_document
from retrieval.tokens import count_tokens
from tests.conftest import SHANDONG_OPINIONS, SHANDONG_PLAN, ZIBO

TOP_LEVEL = re.compile(r"^[一二三四五六七八九十]+、")
CN_NUMS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]

# -- a generator for synthetic policy documents ----------------------------------------------------------

HANZI = "加快建设信息基础设施推进网络数据中心工业互联网产业融合创新发展支持企业城市智能应用平台服务体系山东淄博省市"
phrase = st.text(alphabet=HANZI + "0123456789G", min_size=1, max_size=24)
clause = st.builds(lambda a, b: f"{a}，{b}" if b else a, phrase, st.one_of(st.just(""), phrase))
sentence = st.builds(lambda body, end: body + end, clause, st.sampled_from(["。", "；", "。", "！", ""]))
sentences = st.lists(sentence, min_size=0, max_size=6).map("".join)
# one very long sentence with no punctuation at all: only a hard split can cut it
run_on = st.text(alphabet=HANZI, min_size=80, max_size=300)
cn_num = st.sampled_from(CN_NUMS)
arabic = st.integers(min_value=1, max_value=12).map(str)


@st.composite
def heading_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["top", "sub", "item", "paren", "bullet"]))
    name = draw(phrase)
    if kind == "top":
        head = f"{draw(cn_num)}、{name}"
    elif kind == "sub":
        left, right = draw(st.sampled_from([("(", ")"), ("（", "）"), ("(", "）")]))
        head = f"{left}{draw(cn_num)}{right}{name}"
    elif kind == "item":
        head = f"{draw(arabic)}{draw(st.sampled_from(['.', '、', '．', ' .']))}{name}"
    elif kind == "paren":
        head = f"({draw(arabic)}){name}"
    else:
        head = f"{draw(st.sampled_from(['——', '--']))}{name}"
    # a heading is either bare or followed by its first sentences on the same line
    tail = draw(st.one_of(st.just(""), st.just("。"), sentences.map(lambda s: "。" + s)))
    return head + tail


meta_line = st.builds(
    lambda key, value: f"【{key}】{value}",
    st.sampled_from(["字 号", "制定机关", "公布日期", "施行日期", "效力等级", "片段A / fragment A"]),
    st.one_of(st.just(""), st.sampled_from(["淄政办字〔2021〕78号", "2021.09.27", "现行有效"]), phrase),
)
content_line = st.one_of(
    heading_line(),
    heading_line(),
    meta_line,
    sentences,
    sentence,
    run_on,
    st.just("关于印发淄博市新型基础设施建设三年行动计划的通知"),
    st.text(max_size=40),  # arbitrary text, including control characters and odd line breaks
)
indent = st.sampled_from(["", "", "", "  ", "\u3000\u3000", "\xa0 ", "\t", " "])


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    lines = []
    for line in draw(st.lists(content_line, min_size=0, max_size=30)):
        lines.append(draw(indent) + line + draw(st.sampled_from(["", "", " ", "\u3000"])))
        lines.extend([draw(indent)] * draw(st.integers(min_value=0, max_value=2)))  # blank lines
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))


@st.composite
def structured_policy_text(draw: st.DrawFn) -> str:
    """A well-formed policy: 【…】 info lines, a notice, then 一、 › (一) › 1. › —— nested sections."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines += draw(st.lists(meta_line, min_size=1, max_size=4))
    if draw(st.booleans()):
        lines += ["关于印发淄博市新型基础设施建设三年行动计划的通知", draw(sentences)]
    lines += draw(st.lists(sentences, max_size=2))

    def section(level: int, number: int) -> None:
        name = draw(phrase)
        style = draw(st.sampled_from(["(", "（"]))
        head = {
            1: f"{CN_NUMS[number]}、{name}",
            2: f"{style}{CN_NUMS[number]}{')' if style == '(' else '）'}{name}",
            3: f"{number + 1}{draw(st.sampled_from(['.', '、']))}{name}",
            4: f"——{name}",
        }[level]
        inline = draw(st.sampled_from(["", "。", "。" + draw(sentences)]))
        lines.append(head + inline)
        lines.extend(draw(st.lists(st.one_of(sentences, run_on, st.text(max_size=20)), max_size=3)))
        if level < 4:
            for child in range(draw(st.integers(min_value=0, max_value=3))):
                section(level + 1, child)

    for top in range(draw(st.integers(min_value=0, max_value=4))):
        section(1, top)
    out = []
    for line in lines:
        out.append(draw(indent) + line)
        out.extend([draw(indent)] * draw(st.integers(min_value=0, max_value=1)))
    return draw(st.sampled_from(["\n", "\r\n"])).join(out)


def make_document(
    text: str, title: str = "淄博市新型基础设施建设三年行动计划(2021-2023年)"
) -> PolicyDocument:
    return PolicyDocument(
        doc_id="synthetic",
        title=title,
        text=text,
        source="synthetic.md",
        doc_number="淄政办字〔2021〕78号",
        issuer="淄博市人民政府办公室",
    )


def line_starts(text: str) -> list[tuple[int, str]]:
    """(offset of the first non-blank character, stripped line) for every line of text."""
    out, position = [], 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append((position + len(body) - len(body.lstrip()), body.strip()))
        position += len(raw)
    return out


def check_chunk_invariants(document: PolicyDocument, chunks: list[Chunk], max_tokens: int) -> None:
    text = document.text
    owner = [-1] * len(text)
    for index, c in enumerate(chunks):
        # (b) offsets point at the exact original text
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start : c.end] == c.text
        assert c.text == c.text.strip(), "chunks are trimmed"
        # (c) within the budget, and the count is the real one
        assert c.token_count == count_tokens(c.text)
        assert c.token_count <= max_tokens
        for position in range(c.start, c.end):
            assert owner[position] == -1, f"chunks {owner[position]} and {index} overlap at {position}"
            owner[position] = index
        assert c.section_parts, "every chunk has a section"
        assert c.ordinal == index
        assert c.doc_id == document.doc_id and c.title == document.title
    # (a) every non-whitespace character is covered (exactly once: no overlap above)
    uncovered = [i for i, ch in enumerate(text) if not ch.isspace() and owner[i] == -1]
    assert not uncovered, f"uncovered characters at {uncovered[:5]}: {text[uncovered[0]]!r}"
    # chunks come in document order
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    # (e) unique ids
    assert len({c.chunk_id for c in chunks}) == len(chunks)

    # (d) no chunk crosses a top-level section: no 一、 heading starts strictly inside a chunk, and a
    # chunk filed under a top-level section lies after that very heading
    headings = [(offset, line) for offset, line in line_starts(text) if TOP_LEVEL.match(line)]
    for c in chunks:
        inside = [line for offset, line in headings if c.start < offset < c.end]
        assert not inside, f"chunk {c.chunk_id} ({c.section_path}) crosses into {inside[0]!r}"
        top = c.section_parts[0]
        if top in (FILE_INFO, NOTICE, PREAMBLE):
            continue
        before = [line for offset, line in headings if offset <= c.start]
        assert before, f"chunk {c.chunk_id} filed under {top!r} precedes every top-level heading"
        assert TOP_LEVEL.match(top)
        assert before[-1].startswith(top), f"chunk {c.chunk_id} filed under {top!r} lies in {before[-1]!r}"


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    text=st.one_of(policy_text(), structured_policy_text()),
    max_tokens=st.integers(min_value=40, max_value=120),
)
@example(text="一、总体要求\n" + "加快建设信息基础设施" * 30, max_tokens=40)
@example(text="【字 号】淄政办字〔2021〕78号\n一、目标\n(一)网络\n1.建设5G。\n——打造先行区。", max_tokens=40)
@example(text="一、甲\n【片段B】\n一、甲\n二、乙。内容。", max_tokens=40)
def test_chunking_properties_on_synthetic_documents(text: str, max_tokens: int) -> None:
    document = make_document(text)
    check_chunk_invariants(document, chunk_document(document, max_tokens), max_tokens)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400), max_tokens=st.integers(min_value=8, max_value=60))
def test_chunking_properties_on_arbitrary_text(text: str, max_tokens: int) -> None:
    document = make_document(text, title="任意文本")
    check_chunk_invariants(document, chunk_document(document, max_tokens), max_tokens)


def test_max_tokens_below_minimum_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_document(make_document("一、总体要求"), max_tokens=7)


def test_blank_document_has_no_chunks() -> None:
    assert chunk_document(make_document(" \n\u3000\n\t")) == []


@pytest.mark.parametrize(
    ("line", "level", "label"),
    [
        ("一、总体要求", 10, "一、总体要求"),
        ("十二、附则。本办法自印发之日起施行。", 10, "十二、附则"),
        ("(二)强化要素支持。按照原则", 20, "(二)强化要素支持"),
        ("（三）培育产业生态", 20, "（三）培育产业生态"),
        ("1.加快5G商用。优化5G基站布局", 30, "1.加快5G商用"),
        ("3、推进信息网络演进升级", 30, "3、推进信息网络演进升级"),
        ("(1)建设基站", 40, "(1)建设基站"),
        ("——打造山东新一代信息基础设施先行区。率先构建", 40, "打造山东新一代信息基础设施先行区"),
        ("到2022年,全省5G网络广泛覆盖", 0, None),
        ("2.5万个基站", 0, None),
        # laws and regulations: 编 › 章 › 节 › 条, all above 一、; an article is named by its number
        ("第一编 总则", 1, "第一编 总则"),
        ("第二章 管辖", 2, "第二章 管辖"),
        ("第三节 级别管辖", 3, "第三节 级别管辖"),
        ("第一百二十条当事人对判决不服的，可以提起上诉。", 5, "第一百二十条"),
        ("第5条 本办法自公布之日起施行。", 5, "第5条"),
        ("第一，加强组织领导。", 0, None),
    ],
)
def test_heading_levels_and_labels(line: str, level: int, label: str | None) -> None:
    assert heading_level(line) == level
    if label is not None:
        assert heading_label(line) == label


def test_a_law_is_cut_article_by_article_under_its_chapters() -> None:
    text = "第一章 总则\n第一条 为了规范管理，制定本法。\n第二条 本法适用于：\n（一）甲；\n（二）乙。\n第二章 附则\n第三条 本法自公布之日起施行。\n"
    document = parse_document(text.encode(), "law.txt")
    paths = [c.section_path for c in chunk_document(document)]
    assert "第一章 总则 › 第一条" in paths and "第二章 附则 › 第三条" in paths
    # the items (一)(二) stay inside their article
    assert all(not p.endswith(("（一）甲；", "（二）乙。")) or "第二条" in p for p in paths)


# -- the real corpus -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_chunks(corpus_dir: Path) -> dict[str, list[Chunk]]:
    documents, errors = load_corpus(corpus_dir)
    assert not errors
    return {d.doc_id: chunk_document(d) for d in documents}


@pytest.fixture(scope="module")
def corpus_documents(corpus_dir: Path) -> dict[str, PolicyDocument]:
    return {d.doc_id: d for d in load_corpus(corpus_dir)[0]}


def paths(chunks: list[Chunk]) -> list[str]:
    return [c.section_path for c in chunks]


def test_corpus_chunks_keep_every_invariant(
    corpus_documents: dict[str, PolicyDocument], corpus_chunks: dict[str, list[Chunk]]
) -> None:
    for doc_id, document in corpus_documents.items():
        check_chunk_invariants(document, corpus_chunks[doc_id], 480)
        # a smaller budget splits more, but keeps the same guarantees
        check_chunk_invariants(document, chunk_document(document, 60), 60)


def test_zibo_sections(corpus_chunks: dict[str, list[Chunk]]) -> None:
    zibo = corpus_chunks[ZIBO]
    found = paths(zibo)
    for expected in (
        "文件信息",
        "印发通知",
        "前言",
        "一、指导思想",
        "二、基本原则 › (二)把握系统性,统筹推进、融合发展",
        "三、行动目标",
        "三、行动目标 › 打造山东新一代信息基础设施先行区",
        "四、保障措施 › (二)强化要素支持",
        "四、保障措施 › (三)培育产业生态",
    ):
        assert expected in found, expected
    # the preamble comes first, in document order
    assert found[:3] == ["文件信息", "印发通知", "前言"]
    by_path = {c.section_path: c for c in zibo}
    assert "【字 号】淄政办字〔2021〕78号" in by_path["文件信息"].text
    assert "各区县人民政府" in by_path["印发通知"].text
    assert by_path["前言"].text.startswith("淄博市新型基础设施建设三年行动计划")
    pioneer = by_path["三、行动目标 › 打造山东新一代信息基础设施先行区"]
    assert pioneer.text.startswith("——打造山东新一代信息基础设施先行区。")
    assert "量子通信" in pioneer.text
    assert pioneer.section_parts == ("三、行动目标", "打造山东新一代信息基础设施先行区")
    # a top-level heading with no body of its own is carried into its first sub-section
    assert by_path["四、保障措施 › (一)加强组织领导"].text.startswith("四、保障措施")
    assert by_path["四、保障措施 › (二)强化要素支持"].text.startswith("(二)强化要素支持。")
    assert all(c.doc_number == "淄政办字〔2021〕78号" for c in zibo)


def test_shandong_plan_sections_keep_traditional_labels(corpus_chunks: dict[str, list[Chunk]]) -> None:
    plan = corpus_chunks[SHANDONG_PLAN]
    found = paths(plan)
    assert "二、重點行動 › (一)信息基礎設施建設行動 › 1.加快5G商用" in found
    assert "一、行動目標" in found
    assert found[0] == "印发通知", "a document opening with its 通知 starts with the notice"
    commercial = next(c for c in plan if c.section_path.endswith("1.加快5G商用"))
    assert "11.2萬個" in commercial.text
    assert commercial.doc_number == "鲁政字〔2020〕228号"


def test_fragmented_document_restarts_at_each_fragment(corpus_chunks: dict[str, list[Chunk]]) -> None:
    opinions = corpus_chunks[SHANDONG_OPINIONS]
    info = [c for c in opinions if c.section_path == "文件信息"]
    assert [c.text.split("/")[0] for c in info] == ["【片段A ", "【片段B "]
    assert all(c.is_heading_only for c in info)
    found = paths(opinions)
    assert "二、重点任务 › (一)建设泛在连接的信息通信网络 › 1.发展新一代移动通信网络" in found
    assert "二、重点任务 › (一)建设泛在连接的信息通信网络 › 2.全面建成高水平全光网" in found


def test_contextual_text_prefixes_title_and_section(corpus_chunks: dict[str, list[Chunk]]) -> None:
    for chunks in corpus_chunks.values():
        for c in chunks:
            assert c.contextual_text == f"{c.title}\n{c.section_path}\n{c.text}"
            assert c.contextual_text.startswith(c.title + "\n" + c.section_path)
            assert not c.text.startswith(c.title)
            assert PATH_SEPARATOR.join(c.section_parts) == c.section_path


def test_metadata_round_trip(corpus_chunks: dict[str, list[Chunk]]) -> None:
    for chunk in corpus_chunks[ZIBO]:
        data = chunk.metadata()
        assert data["section_path"] == chunk.section_path
        assert isinstance(data["section_parts"], list)
        assert Chunk.from_metadata(data) == chunk
