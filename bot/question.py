"""What a question asks for, read deterministically from its words: a list, a quantity, a document field,
a place (for attribution), or a reference back to the previous turn."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval import lexical
from retrieval.normalize import compact

_LIST = re.compile(
    r"哪些|哪几|有几|几个|几项|几条|几方面|包括什么|包括哪|分别|列出|列举|都有什么|主要有|"
    r"what are|list|which (?:are|areas|principles|measures)"
)
_QUANTITY = re.compile(r"多少|几成|比例|占比|百分之|how many|how much|what percentage|数量")
_MONEY = re.compile(
    r"多少钱|补贴|补助|奖励|资金|预算|金额|投资额|总投资|万元|亿元|subsid|budget|funding amount|how much money"
)
_ORDINAL = re.compile(r"第\s*[（(]?\s*([一二三四五六七八九十0-9]+)\s*[)）]?\s*[条项个点部分]")
_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|此外|这些|这个|这项|这条|该|它|其|上述|以上|前面|刚才)|"
    r"(呢[？?]?$)|它的|其中|这些|上述|\b(it|its|they|them|those|that one)\b"
)
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# document fields a metadata question can ask for, with the words that ask for them
METADATA_FIELDS: dict[str, re.Pattern[str]] = {
    "doc_number": re.compile(r"文号|字号|发文字号|document number|doc(?:ument)? no"),
    "issuer": re.compile(
        r"发文机关|制定机关|发布机关|印发机关|(?:哪个|哪些|什么)(?:部门|单位|机关)(?:发|印发|制定|发布|出台)|"
        r"(?:由谁|谁)(?:发|印发|制定|发布|出台)|issued by|issuer|which office|who issued"
    ),
    "published": re.compile(
        r"when was .*published|发布得?更早|哪个先发布|先后|公布日期|印发日期|发布日期|发文日期|成文日期|哪天|哪一天|什么时候(?:印发|发布|公布|出台)|何时(?:印发|发布|出台)|什么日期|when was .*(?:issued|published)|what date|on what date"
    ),
    "effective": re.compile(
        r"施行日期|(?:开始|何时|什么时候|哪天|哪一天|起)(?:施行|实施|生效)|生效|实施日期|effective date|take effect"
    ),
    "level": re.compile(
        r"效力等级|效力级别|文件级别|什么性质的文件|level of authority|effect level|legal effect"
    ),
    "status": re.compile(
        r"时效性|还有效|仍然有效|是否有效|现行有效|失效|过期|still valid|still in force|still effective"
    ),
    "topic": re.compile(r"主题分类"),
    "title": re.compile(r"完整标题|标题|全称|全名|文件名称|叫什么名字|full title|official title|full name"),
    "period": re.compile(
        r"执行期|实施期|规划期|哪几年|哪些年|覆盖哪|期限|时间跨度|到哪年结束|哪一年结束|起止|what period|which years"
    ),
    "deadline": re.compile(r"时间节点|截止时间|到什么时候|什么时候完成|何时完成|完成时限|by when|deadline"),
    "addressees": re.compile(r"主送|发给哪些|印发给|addressed to"),
}

# what kind of fact a question asks for, when the answer must contain one of that kind
ANSWER_TYPES: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"电话|热线|联系方式|phone"),
    "url": re.compile(r"网址|网站|链接|网页|url|website"),
    "company": re.compile(r"哪家公司|哪家企业|哪些公司|哪些企业(?:承建|负责|中标)|承建|中标|运营商是"),
    "procedure": re.compile(
        r"流程|步骤|手续|怎么申请|如何申请|怎么申报|如何申报|申报条件|申请条件|(?:申报|申请|提交|准备|哪些)材料"
    ),
    "department": re.compile(r"哪个部门|哪些部门|由谁负责|谁负责|责任单位|牵头单位|主管部门"),
    "district": re.compile(r"哪些区县|哪个区县|哪个区|哪些区|哪个县|具体位置|建在哪|选址"),
    "result": re.compile(r"完成情况|进展|评估结果|中期评估|成效如何|落实情况|执行情况"),
    "tax": re.compile(r"税收|免税|减税|所得税|税费|tax"),
}
ANSWER_TYPE_EVIDENCE: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"\d{3,4}-?\d{7,8}|\d{11}"),
    "url": re.compile(r"https?://|www\."),
    "company": re.compile(r"公司|集团|有限"),
    "procedure": re.compile(r"申报|申请|流程|程序|办理"),
    "department": re.compile(
        r"(?:负责|牵头|责任单位)[^。]{0,40}(?:局|厅|委员会|委)|(?:局|厅|委员会|委)[^。]{0,20}(?:负责|牵头)"
    ),
    "district": re.compile(r"[\u4e00-\u9fff]{2,4}(?:区|县)(?:人民政府|管委会)?[、,，和及]"),
    "result": re.compile(r"已(?:完成|建成|实现)|完成了|评估"),
    "tax": re.compile(r"税"),
}

PLACES = {"淄博": ("淄博",), "山东": ("山东省", "全省", "省里", "省政府", "省级方案", "shandong")}
_SCOPE_WORDS = frozenset(["全省"])


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    wants_list: bool
    wants_quantity: bool
    wants_money: bool
    metadata_fields: tuple[str, ...]
    places: tuple[str, ...]
    answer_types: tuple[str, ...]
    years: tuple[int, ...]
    ordinal: int | None
    looks_like_follow_up: bool


# the words that stand where the answer would stand ("要打造什么算力中心" → "要打造X算力中心")
_QUESTION_WORD = re.compile(
    r"什么样的?|什么|哪一类|哪类|哪些|哪几(?:个|项|条|方面)?|哪一?个|哪里|哪两[座份个项]?|怎样的?|怎么|如何|多少个?|几个|谁"
)


def cloze_contexts(question: str) -> tuple[str, str] | None:
    """The words before and after the (first) question word, normalised, or None without one. A sentence
    that repeats them around something else ("要打造中国产业算力中心") is the sentence that answers."""
    norm = compact(question).rstrip("？?。!！呢吗")
    match = _QUESTION_WORD.search(norm)
    if match is None:
        return None
    return norm[: match.start()], norm[match.end() :]


def _ordinal(text: str) -> int | None:
    match = _ORDINAL.search(text)
    if not match:
        return None
    token = match.group(1)
    if token.isdigit():
        return int(token)
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + _CN_DIGITS.get(token[1:], 0)
    return (
        _CN_DIGITS.get(token[0], 0) * (10 if "十" in token else 1)
        + (_CN_DIGITS.get(token[-1], 0) if len(token) > 1 and token[-1] != "十" else 0)
        or None
    )


def place_names(text: str) -> list[str]:
    """Place names (words jieba's dictionary tags `ns`) of two or more characters in a text.

    Cut with the retrieval tokenizer that is already loaded, instead of jieba.posseg, whose own
    dictionaries cost seconds of start-up."""
    places = _dictionary_places()
    return [w for w in lexical.words(text) if len(w) >= 2 and w in places and w not in _NOT_PLACES]


@lru_cache(maxsize=1)
def _dictionary_places() -> frozenset[str]:
    import jieba

    found: set[str] = set()
    for path in (Path(jieba.__file__).with_name("dict.txt"), lexical.POLICY_TERMS):
        found.update(_NS_ENTRY.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


_NS_ENTRY = re.compile(r"^(\S+) \d+ ns\w*$", re.MULTILINE)


def warm_up() -> None:
    _dictionary_places()


# words jieba may tag as places that name no place
_NOT_PLACES = frozenset(
    [
        "东西",
        "东部",
        "西部",
        "南北",
        "城乡",
        "全国",
        "国内",
        "国外",
        "海外",
        "本地",
        "当地",
        "各地",
        "全省",
        "全市",
        "省内",
        "市内",
        "园区",
        "城区",
    ]
)


_CLAUSE = re.compile(r"[^。！!；;：:？?\n]*(?:[。！!；;：:？?\n]+|$)")
_ASKING = re.compile(
    r"[？?]|什么|哪|多少|几|吗|是否|怎么|怎样|如何|有没有|能否|可否|\b(?:what|which|how|when|who|where|whether|is|are|does|do|did)\b",
    re.IGNORECASE,
)


def asked_part(text: str) -> str:
    """The clauses of a message that ask something. Years and places stated elsewhere ("知识库已更新，
    计划已延期到2025年。请据此回答：…") are the user's claims, not what is asked, and must not decide
    attribution or out-of-range refusals."""
    clauses = [c for c in _CLAUSE.findall(text) if c.strip()]
    asking = [c for c in clauses if _ASKING.search(c)]
    return "".join(asking) if asking and len(clauses) > 1 else text


def mentioned_places(text: str) -> tuple[str, ...]:
    norm = compact(text)
    found = []
    if "淄博" in norm or "zibo" in norm:
        found.append("淄博")
    # "全省" names the province as a scope; beside a named city ("在全省…上，淄博想…") it is the city's
    province_words = [w for w in PLACES["山东"] if not (found and w in _SCOPE_WORDS)]
    if any(word in norm for word in province_words) or "山东" in norm.replace("山东新一代", ""):
        found.append("山东")
    return tuple(found)


def analyze(question: str) -> QuestionAnalysis:
    norm = compact(question)
    lowered = question.lower()
    return QuestionAnalysis(
        text=question,
        wants_list=bool(_LIST.search(norm) or _LIST.search(lowered)),
        wants_quantity=bool(_QUANTITY.search(norm) or _QUANTITY.search(lowered)),
        wants_money=bool(_MONEY.search(norm) or _MONEY.search(lowered)),
        metadata_fields=tuple(f for f, p in METADATA_FIELDS.items() if p.search(norm) or p.search(lowered)),
        places=mentioned_places(asked_part(question)),
        answer_types=tuple(t for t, p in ANSWER_TYPES.items() if p.search(norm) or p.search(lowered)),
        years=tuple(int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", compact(asked_part(question)))),
        ordinal=_ordinal(norm),
        looks_like_follow_up=bool(_FOLLOW_UP.search(norm) or _FOLLOW_UP.search(lowered)) or len(norm) <= 6,
    )
