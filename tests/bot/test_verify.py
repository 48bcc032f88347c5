import pytest

from bot.answer import REFUSAL_SENTENCE
from bot.verify import facts_in, verify

PASSAGES = ["到2022年建成5G基站11.2万个。", "文号为淄政办字〔2021〕78号。"]


def test_accepts_cited_facts() -> None:
    assert verify("山东到2022年建成5G基站11.2万个[1]，文号淄政办字〔2021〕78号[2]。", PASSAGES).ok


def test_rejects_invented_numbers_and_bad_markers() -> None:
    assert not verify("建成5G基站12万个[1]。", PASSAGES).ok
    assert not verify("建成5G基站11.2万个[3]。", PASSAGES).ok
    assert not verify("建成5G基站11.2万个。", PASSAGES).ok  # no citation at all


def test_number_must_be_in_the_cited_passage_not_another() -> None:
    assert not verify("文号为淄政办字〔2021〕78号[1]。", PASSAGES).ok


def test_refusal_must_be_exact() -> None:
    assert verify(REFUSAL_SENTENCE, PASSAGES).ok
    assert not verify(REFUSAL_SENTENCE + "不过我猜是10万元。", PASSAGES).ok


def test_full_width_digits_are_normalised() -> None:
    assert "112000" in facts_in("１１.２万个")


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("到2022年建成5G基站11.2万个[1]。", True),
        ("By 2022 the province will build 112,000 5G base stations[1].", True),
        ("By 2022 the province will build 112 thousand 5G base stations[1].", True),
        ("By 2022 the province will build 11.2 million 5G base stations[1].", False),
        ("到2022年建成5G基站11.2个[1]。", False),
        ("到2022年建成5G基站1120万个[1]。", False),
        ("Over 90 percent of rural users[2].", True),
        ("Over 9 percent of rural users[2].", False),
    ],
)
def test_a_figure_keeps_its_magnitude_in_either_language(answer: str, ok: bool) -> None:
    """11.2万 is 112,000: a translated or reworded figure must have the same value, not only the same digits."""
    passages = ["到2022年,全省建成5G基站11.2万个。", "农村百兆宽带接入用户占比超过90%。"]
    assert verify(answer, passages).ok is ok
