"""Document-field questions recognised by meaning (bot.intents): wordings the regular expressions do not list."""

from __future__ import annotations

import pytest

from bot.intents import IntentExemplars
from retrieval.embeddings import E5Embeddings


@pytest.fixture(scope="module")
def intents(e5: E5Embeddings) -> IntentExemplars:
    return IntentExemplars(e5, model_id=E5Embeddings.model_name)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("苏州这份实施意见的发文号是多少？", "doc_number"),
        ("What's the reference number of the Suzhou notice?", "doc_number"),
        ("江苏省的行动方案是哪个机关印发的？", "issuer"),
        ("When does this regulation come into force?", "effective"),
        ("这份计划是哪一號文？", "doc_number"),
        ("该规划的有效期到什么时候？", "period"),
        ("该条例目前是否仍然适用？", "status"),
        ("請告訴我這份通知的正式全稱。", "title"),
        # the signing date under a document whose name has a period in it ("三年") is its date, not its period
        ("苏州新基建三年行动计划的落款日期是哪天？", "published"),
        ("省数字经济三年方案落款是哪一天？", "published"),
    ],
)
def test_a_field_question_in_unlisted_words_gets_its_field(
    intents: IntentExemplars, question: str, kind: str
) -> None:
    assert intents.kind(question) == kind


@pytest.mark.parametrize(
    "question",
    [
        "苏州计划要建多少个5G基站？",
        "该方案对数据中心有什么要求？",
        "这份通知提出了哪些保障措施？",
        "What does the Jiangsu plan say about data centers?",
        "明天苏州天气如何？",
    ],
)
def test_content_and_unrelated_questions_have_no_field(intents: IntentExemplars, question: str) -> None:
    assert intents.kind(question) is None


def test_vectors_are_cached_for_the_next_start(
    e5: E5Embeddings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = IntentExemplars(e5, model_id="m").matrix()
    assert len(list((tmp_path / "policybot").glob("intents-*.npy"))) == 1

    class Unusable:
        def embed_query(self, text: str) -> list[float]:
            raise AssertionError("embedded again although cached")

    again = IntentExemplars(Unusable(), model_id="m").matrix()
    assert (again == first).all()


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("杭州那份办法的法律层级算哪一种？", "level"),
        ("寧波這份方案的實施年限是幾年到幾年？", "period"),
        ("Is the Ningbo regulation still in force today?", "status"),
    ],
)
def test_field_questions_in_other_registers(intents: IntentExemplars, question: str, kind: str) -> None:
    """Wordings none of the phrasings has (and that the first, shorter phrasing lists missed)."""
    assert intents.kind(question) == kind


@pytest.mark.parametrize(
    "question",
    [
        "What are the key tasks of the Hangzhou notice?",
        "Which department leads the data-sharing work in the guideline?",
        "What level of fibre coverage does the Ningbo plan aim for?",
        "By what year should the Hangzhou computing centre be finished?",
        "杭州方案里的算力平台叫什么名字？",
    ],
)
def test_content_questions_that_share_words_with_fields_have_no_field(
    intents: IntentExemplars, question: str
) -> None:
    assert intents.kind(question) is None
