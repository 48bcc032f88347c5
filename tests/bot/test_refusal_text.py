"""A refusal points at a few documents, never the whole library."""

from __future__ import annotations

from types import SimpleNamespace

from bot.answer import REFUSAL_SENTENCE
from bot.chain import MAX_SUGGESTED_DOCUMENTS, refusal_text


def _library(n: int) -> SimpleNamespace:
    documents = {
        f"doc-{i}": {
            "summary": {
                "title": f"某市关于第{i}项工作的通知" + "（加长标题）" * 5,
                "completeness": "complete",
            }
        }
        for i in range(n)
    }
    return SimpleNamespace(documents=documents)


def test_a_large_library_is_summarised_by_count_and_the_closest_titles() -> None:
    text = refusal_text(_library(600), suggested=["doc-42", "doc-7", "doc-42", "unknown", "doc-9", "doc-1"])
    assert text.startswith(REFUSAL_SENTENCE)
    assert "共收录600份文件" in text
    assert "第42项" in text and "第7项" in text and "第9项" in text and "第1项" not in text
    assert text.count("《") == MAX_SUGGESTED_DOCUMENTS
    assert len(text) < 1000


def test_a_small_library_lists_its_documents() -> None:
    text = refusal_text(_library(2))
    assert "本库收录的文件：" in text and text.count("《") == 2
