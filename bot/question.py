"""What a question asks for, read deterministically from its words: a list, a quantity, a document field,
a place (for attribution), or a reference back to the previous turn."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.bilingual import headwords, is_english
from retrieval.metadata import DOCUMENT_KINDS
from retrieval.normalize import compact, fold_width, to_simplified
from retrieval.places import (
    CITY,
    PROVINCE,
    SCOPE_WORDS,
    canonical_place,
    english_place_names,
    gazetteer,
    place_names,
    romanised_places,
    scope_levels,
)

# the names of kinds of document, longest first ("指导意见" before "意见")
_KINDS = "|".join(sorted({*DOCUMENT_KINDS, "文件", "政策"}, key=len, reverse=True))
_LIST = re.compile(
    r"哪些|哪几|有几|几个|几项|几条|几方面|包括什么|包括哪|分别|各项|逐项|逐条|列出|列举|列一下|(?<!系)列个|罗列|都有什么|主要有|"
    r"哪[两二三四五六七八九十]+[个项条类种大方份件点座家]|"
    # "list" asked for ("please list…", "list the…", "a list of…"), not a list named ("the project list annexed")
    r"what are|(?:^|please |can you |could you |would you |and |, ?)list\b|\ba list of\b|"
    r"\blist (?:the|all|each|every|them|its|their|what|which|some|any)\b|(?:what|which) (?:\S+ ){0,4}(?:are|is) listed|"
    r"which (?:are|areas|principles|measures|two|three|four|five|six|seven|eight|nine|ten)"
)
# the English forms read as the Chinese ones do: 比例/占比 → proportion/share/rate, 多少 → how many/much/large
_QUANTITY = re.compile(
    # 几 with a measure word for things counts them ("几座桥", "几家医院"); 几个 may count kinds ("有几个方面"): a list
    r"多少|(?<!哪)几[座家所台套处]|几成|比例|占比|百分之|数量|how (?:many|much|large|big)|"
    r"what (?:percentage|proportion|share|ratio|rate)\b|\bnumber of\b"
)
_MONEY = re.compile(
    r"多少钱|补贴|补助|奖励|资金|预算|金额|投资额|总投资|万元|亿元|subsid|budget|funding amount|how much money|"
    r"(?:total|combined|overall|planned) investment|investment (?:amount|total|volume)"
)
_ORDINAL = re.compile(r"第\s*[（(]?\s*([一二三四五六七八九十0-9]+)\s*[)）]?\s*[条项个点部分]")
_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|此外|这些|这个|这项|这条|该|它|其|上述|以上|前面|刚才)|"
    r"(呢[？?]?$)|它的|其中|这些|上述|\b(it|its|they|them|those|that one)\b"
)
# words that ask about several things side by side: each named place or level is then one group of documents
_COMPARES = re.compile(
    r"分别|各自|两者|二者|相比|对比|比较|有何不同|有什么不同|区别|异同|\bvs\.?\b|compare|respectively|differ|"
    # "the Shandong opinions and the Zibo plan each set…", "both documents": 各自 in English
    r"\band\b[^?.!]{1,80}\beach\b|\bboth (?:documents|plans|of them)\b"
)
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# document fields a metadata question can ask for, with the words that ask for them
METADATA_FIELDS: dict[str, re.Pattern[str]] = {
    "doc_number": re.compile(
        r"文号|字号|发文字号|document number|doc(?:ument)? no|(?:reference|file|issuance|serial) (?:number|no)"
    ),
    "issuer": re.compile(
        r"(?:发文|发布|印发|制发|制定|出台)(?:机关|单位|部门|主体)|(?:哪个|哪些|什么)(?:部门|单位|机关)(?:的?名义)?(?:发|印发|制定|发布|出台)|"
        # "哪个部门、哪一年发布的": the body asked beside the time it did so
        r"(?:哪个|哪些|什么)(?:部门|单位|机关)[、，,和及与在于][^，,。？?]{0,8}?(?:印发|制定|发布|出台|发的)|"
        r"(?:由谁|谁)(?:发|印发|制定|发布|出台)|issued by|issuer|which office|who issued|"
        r"which (?:body|bodies|authority|authorities|agency|agencies|department|departments|organ|organs|office|"
        r"offices|government) (?:issued|published|released)"
    ),
    "published": re.compile(
        r"when was .*published|发布得?更早|哪个先发布|先后|公布日期|印发日期|发布日期|发文日期|成文日期|什么时候(?:印发|发布|公布|出台|发的|发出)|何时(?:印发|发布|出台)|when was .*(?:issued|published)|"
        # the year a document was published ("哪一年印发的", "issued …, and in what year"), not the year of a target
        r"哪一?年(?:份)?(?:印发|发布|公布|出台|制定|发的|发出)|(?:issued|published|released)\b[^?]{0,80}\bin (?:what|which) year"
    ),
    "effective": re.compile(
        r"施行日期|(?:开始|何时|什么时候|哪天|哪一天|起)(?:施行|实施|实行|执行|生效)|生效|实施日期|effective date|take effect"
    ),
    "level": re.compile(
        r"效力等级|效力级别|文件级别|什么性质的文件|什么(?:级别|层级)的(?:文件|政策)|level of authority|effect level|legal effect"
    ),
    "status": re.compile(
        r"时效性|还有效|仍然有效|是否有效|现行有效|失效|过期|(?:现在|目前|如今)?(?:还|仍然?)(?:管用|适用|算数)|"
        r"still valid|still in force|still effective"
    ),
    "topic": re.compile(r"主题分类"),
    # "叫什么名字" asks for a title only when a document is what is named ("这份计划叫什么名字", not "算力中心叫什么名字")
    "title": re.compile(
        r"完整标题|标题|全称|全名|文件名称|"
        rf"(?:{_KINDS})的?(?:名字|名称)?叫什么名字|"
        r"full title|official title|full name"
    ),
    "period": re.compile(
        r"执行期|实施期|规划期|哪几年|哪些年|覆盖哪(?:几|些|一)?年|期限|时间跨度|到哪年结束|哪一年结束|起止|what period|which years|"
        r"until (?:which|what) year|until when|when does .{0,60}\b(?:end|expire|run out)\b|how long does .{0,60}\brun\b"
    ),
    "deadline": re.compile(
        r"时间节点|截止时间|到什么时候|什么时候完成|何时完成|完成时限|目标年份|目标年(?:是|为|定在)|by when|deadline|target year"
    ),
    "addressees": re.compile(
        r"主送|发给了?(?:哪些|谁)|印发给|下发(?:给|到)|(?:发文|发送|下发)对象|addressed to|\bsent to\b|recipients"
    ),
}

# what kind of fact a question asks for, when the answer must contain one of that kind
ANSWER_TYPES: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"电话|热线|联系方式|phone"),
    "email": re.compile(r"邮箱|电子邮件|电邮|e-?mail"),
    "url": re.compile(r"网址|网站|链接|网页|url|website"),
    "company": re.compile(
        r"哪家公司|哪家企业|哪些公司|哪些企业(?:承建|负责|中标)|承建|中标|运营商是|"
        r"which (?:company|firm|enterprise|operator)\b|which (?:\w+ )?(?:companies|firms|operators)\b|"
        r"which (?:\w+ )?enterprises (?:\w+ ){0,2}(?:build|built|operate|won|selected|chosen|signed)"
    ),
    "procedure": re.compile(
        r"流程|步骤|手续|怎么申请|如何申请|怎么申报|如何申报|申报条件|申请条件|(?:申报|申请|提交|准备|哪些)材料|"
        r"how (?:do|does|can|should) (?:\w+ ){0,3}apply|application (?:materials|procedure|process|form)|"
        r"what (?:documents|materials) (?:\w+ ){0,3}submit"
    ),
    "department": re.compile(
        r"哪个部门|哪些部门|由谁负责|谁负责|责任单位|牵头单位|主管部门|"
        # a body asked with what it is charged with: "由哪些单位负责", "哪几个机构来管", "什么单位牵头"
        r"(?:哪|什么)[一几些个家]*[\u4e00-\u9fff]{0,2}?(?:部门|单位|机构|机关)[^，,。？?]{0,8}?"
        r"(?:负责|牵头|主管|承担|分管|管的|来管|管理|落实)|"
        r"which (?:department|agency|bureau|authority|authorities)|who is (?:responsible|in charge)|lead (?:unit|agency)"
    ),
    "district": re.compile(
        r"哪些区县|哪个区县|哪个区|哪些区|哪个县|具体位置|建在哪|选址|"
        r"which (?:district|county|counties)|where exactly|be (?:located|built|sited) where"
    ),
    "result": re.compile(
        r"完成情况|进展|评估结果|中期评估|成效如何|落实情况|执行情况|"
        r"\bprogress\b|actually (?:been )?(?:delivered|built|completed|achieved)|mid-term (?:review|evaluation)|"
        r"implementation status"
    ),
    "tax": re.compile(r"税收|免税|减税|所得税|税费|tax"),
    # a sanction asked for ("会受到什么处罚", "罚款多少", "what penalties apply"): a rule that says what is required
    # without a sanction does not give one
    "penalty": re.compile(
        r"(?:什么|哪些|怎样|何种|哪种|哪类)的?(?:处罚|罚则|惩罚|处分|追责|问责)|罚款?多少|罚几|"
        r"\bpenalt|\bsanction|\bpunish|\bfined\b|\bfines? (?:apply|for|of)\b"
    ),
    # a share asked as a share: the answer must give one (a count of base stations is no coverage rate)
    "percent": re.compile(
        r"百分之(?:多少|几)|百分比|多少\s*[%％]|(?:占比|比例|比重|[^\W\d_]率)[^，,。；;？?\d]{0,6}?多少|"
        r"what (?:percentage|proportion|share)\b|(?:rate|share|proportion) (?:\w+ ){0,4}(?:reach|be)\b"
    ),
}
ANSWER_TYPE_EVIDENCE: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"\d{3,4}-?\d{7,8}|\d{11}"),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "url": re.compile(r"https?://|www\."),
    "company": re.compile(r"公司|集团|有限"),
    "procedure": re.compile(r"申报|申请|流程|程序|办理"),
    "department": re.compile(
        r"(?:负责|牵头|责任单位)[^。]{0,40}(?:局|厅|委员会|委)|(?:局|厅|委员会|委)[^。]{0,20}(?:负责|牵头)"
    ),
    "district": re.compile(r"[\u4e00-\u9fff]{2,4}(?:区|县)(?:人民政府|管委会)?[、,，和及]"),
    "result": re.compile(r"已(?:完成|建成|实现)|完成了|评估"),
    "tax": re.compile(r"税"),
    "penalty": re.compile(r"处罚|罚款|罚金|罚则|惩罚|处分|追究|问责|追责|吊销|责令|拘留|没收|警告|通报批评"),
    "percent": re.compile(r"\d\s*[%％]|百分之|[一二三四五六七八九]成|全覆盖|全部"),
}

# a government body the question names ("省财政厅", "市大数据局", "发改委"): the cited documents must name it
BODY = re.compile(
    r"[\u4e00-\u9fff]{1,9}?(?:管理局|局|厅|委员会|委|办公室)(?![面势部限])"
    # a ministry ("工信部", "财政部") where it acts as one: it issues, rules or decides ("…部关于…", "…部印发的")
    r"|[\u4e00-\u9fff]{1,6}?(?<![内全总外局东西南北中干底头顶背])部(?=关于|印发|发布|出台|制定|颁布|规定|要求|的规定|的通知|的文件|的意见|的办法)"
)
# words that end like a body but are none (布局, 格局, 结局…)
_NOT_BODIES = re.compile(r"(?:布|格|结|全|大|当|时|开|变|新|棋|饭|成|出|入|骗)局$")
BODY_TAIL = 3  # characters of a body's name, counted from its end, that identify it ("财政厅", "管理局")


def named_bodies(question: str) -> list[str]:
    """The government bodies the asked part of a question names, as the last BODY_TAIL characters of each."""
    found = (m.group(0) for m in BODY.finditer(to_simplified(asked_part(question))))
    return [name[-BODY_TAIL:] for name in found if len(name) >= 3 and not _NOT_BODIES.search(name)]


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    wants_list: bool
    wants_quantity: bool
    wants_money: bool
    metadata_fields: tuple[str, ...]
    places: tuple[str, ...]  # canonical places the asked part names; those that designate a document first
    designated: tuple[str, ...]  # the places that stand right before a kind of document ("苏州计划")
    scopes: tuple[str, ...]  # levels named by scope words (全省 → province)
    designated_scopes: tuple[
        str, ...
    ]  # levels whose scope word stands before a kind of document ("省里的方案")
    answer_types: tuple[str, ...]
    years: tuple[int, ...]
    ordinal: int | None
    looks_like_follow_up: bool
    compares: bool = False  # asks about several places/levels side by side ("苏州和全省分别…")
    items_asked: int | None = None  # "哪四个" / "which three": the answer lists that many items
    wants_year: bool = False  # "哪年完工", "which year": the answer must name a year
    wants_day: bool = False  # "哪天截止", "on what date": the answer must name a day
    # the fields the question's words ask for (metadata_fields may add one read by meaning, bot.intents): only
    # these are answered from the document's header when its text does not give them
    worded_fields: tuple[str, ...] = ()


# the words that stand where the answer would stand ("要培育什么园区" → "要培育X园区")
_QUESTION_WORD = re.compile(
    r"什么样的?|什么|哪一类|哪类|哪些|哪几(?:个|项|条|方面)?|哪一?个|哪里|哪两[座份个项]?|怎样的?|怎么|如何|多少个?|几[个座家所台套处]|谁"
)


def cloze_contexts(question: str) -> tuple[str, str] | None:
    """The words before and after the (first) question word, normalised, or None without one. A sentence
    that repeats them around something else ("要培育智能制造园区") is the sentence that answers."""
    norm = compact(question).rstrip("？?。!！呢吗")
    match = _QUESTION_WORD.search(norm)
    if match is None:
        return None
    return norm[: match.start()], norm[match.end() :]


def _ordinal(text: str) -> int | None:
    match = _ORDINAL.search(text)
    return _ordinal_number(match.group(1)) if match else None


def _ordinal_number(token: str) -> int | None:
    """一 → 1, 十二 → 12, 7 → 7."""
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


def warm_up() -> None:
    gazetteer()
    romanised_places()


# a sentence or clause: up to a Chinese stop, a question mark, a line break, or an English full stop before a space
# (not the point of "1.25")
_CLAUSE = re.compile(r"(?:[^。！!；;：:？?\n.]|\.(?!\s|$))*(?:[。！!；;：:？?\n]+|\.(?:\s+|$)|$)")
# a question mark or a question word of the language (an English yes/no verb aside)
_QUESTION_WORDS = r"[？?]|什么|哪|多少|几|吗|是否|怎么|怎样|如何|有没有"
_ASKING = re.compile(
    _QUESTION_WORDS
    + r"|能否|可否|帮我|告诉我|给我|\b(?:what|which|how|when|who|where|whether|is|are|does|do|did)\b",
    re.IGNORECASE,
)


# a clause in which the asker says who they are or what they are doing ("我们公司负责项目选址，…") is context
_ASKER = re.compile(r"我们|我|本公司|我司|本单位|咱|\b(?:we|i|our|my)\b", re.IGNORECASE)
_COMMA_CLAUSE = re.compile(r"[^，,。！!；;：:？?\n]+")


def _without_asker(clauses: list[str]) -> list[str]:
    """The clauses that ask something or are not the asker's account of themselves ("我们公司有200名员工")."""
    return [c for c in clauses if _ASKING.search(c) or not _ASKER.search(c)]


# an English request asks as 给我/告诉我 do ("Please give me the hotline number.")
_REQUEST = re.compile(r"\b(?:please|tell me|give me|show me)\b", re.IGNORECASE)


def asked_clauses(text: str) -> str:
    """What a message asks, without the sentences that only tell and the asker's account of themselves within
    them: "我在无锡开物流公司，想问苏州计划对冷链仓储有什么支持？" asks nothing about 无锡, and "我们建仓库常被卡在
    选址上。请问园区用地有什么倾斜？" asks for no site. An English request asks as a question does."""
    clauses = [c for c in _CLAUSE.findall(text) if c.strip()]
    asking = [c for c in clauses if _ASKING.search(c) or _REQUEST.search(c)]
    asked = "".join(asking) if asking and len(clauses) > 1 else text
    kept = _without_asker(_COMMA_CLAUSE.findall(asked))
    return "，".join(kept) if kept else asked


def _answer_types(question: str, fields: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The kinds of fact the question asks for (a phone number, a district…), read in the question, not in the
    asker's account of themselves: "我们公司负责项目选址，请问…纳入什么规划" asks for a plan, not a site. The
    department that issued the document ("哪个部门发的") is its issuer, not a department charged with a task."""
    text = asked_clauses(question)
    norm, lowered = compact(text), text.lower()
    found = tuple(t for t, p in ANSWER_TYPES.items() if p.search(norm) or p.search(lowered))
    return tuple(t for t in found if t != "department") if "issuer" in fields else found


# a phrase the question quotes (“…”, 「…」, 『…』, or "…" around Chinese): a name or wording the asker takes from
# somewhere and expects to find; an elided quote ("“通畅、强劲……”") is not a phrase to look for
_QUOTED = re.compile(r"[“「『]([^”」』]{2,40})[”」』]|\"([^\"]{2,40})\"")
_ELIDED = re.compile(r"…|\.\.\.|等$")


# what the asker wants said rather than found: a quote right after a verb of saying or writing ("先输出“…”",
# "回复的第一句必须是“…”", "以“…”开头")
_UTTERED = re.compile(
    r"(?:输出|打出|打上|说|讲|写|回复|回答|答复|加上|附上|加|声明|显示|打印|复述|重复|必须是|改成|改为|换成|以|用)"
    r"[^“「『\"，,。！？!?的]{0,6}$"  # "苏州说的“智改数转”" names what was said: 的 makes it a name
)


def quoted_phrases(text: str) -> list[str]:
    """The Chinese phrases a text quotes to be looked for, as written (not what it asks to have said)."""
    simplified = to_simplified(text)
    found = [
        m.group(1) or m.group(2)
        for m in _QUOTED.finditer(simplified)
        if not _UTTERED.search(simplified[max(0, m.start() - 12) : m.start()])
    ]
    return [q for q in found if re.search(r"[\u3400-\u9fff]", q) and not _ELIDED.search(q)]


_LATIN_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9][A-Za-z0-9-]*(?![A-Za-z0-9])")
# a measure written in letters after a figure ("100MW", "kV", "TB"): a unit, not a name
_UNIT = re.compile(r"\d*(?:[kmgtpe]?(?:w|wh|b|bps|v|va|hz|flops?)|km|m|kg|t|mb|gb|tb|pb|cm|mm|ha|mu)", re.I)
CODE_MAX = 10  # characters, letters with digits ("NB-IoT", "Wi-Fi6")
WORD_CODE_MAX = 5  # characters, capitals only: a longer run is a word in capitals ("OVERRIDE"), not a code


def code_names(text: str) -> list[str]:
    """The codes a text names, as written: runs of two or more capitals, or of letters with digits ("WUE", "IPv6",
    "6G", "NB-IoT"), that are no unit of measure and, in English, no word the dictionary knows written in capitals
    ("OK", "NOT")."""
    english = is_english(text)
    found = []
    for match in _LATIN_TOKEN.finditer(fold_width(text)):
        token = match.group(0).strip("-")
        capitals = sum(ch.isupper() for ch in token)
        has_digit = any(ch.isdigit() for ch in token)
        longest = CODE_MAX if has_digit or "-" in token else WORD_CODE_MAX
        if (
            not 2 <= len(token) <= longest
            or token.isdigit()
            or not (capitals >= 2 or (has_digit and capitals))
        ):
            continue
        if _UNIT.fullmatch(token) or (english and not has_digit and headwords(token)):
            continue
        found.append(token)
    return list(dict.fromkeys(found))


def asks(text: str) -> bool:
    """The text asks something (a question mark, a question word)."""
    return bool(_ASKING.search(text))


def refers_back(text: str) -> bool:
    """The text points at what was said before in words ("那…呢", "这些", "它的", "those"), not only by being short."""
    norm = compact(to_simplified(text))
    return bool(_FOLLOW_UP.search(norm) or _FOLLOW_UP.search(text.lower()))


def asks_in_words(text: str) -> bool:
    """The text asks with a question word of its own ("苏州有没有…", "几个"), not only a question mark ("那苏州呢？")."""
    return any(m.group(0) not in "？?" for m in _ASKING.finditer(text))


def asked_part(text: str) -> str:
    """The clauses of a message that ask something. Years and places stated elsewhere ("资料已改版，
    该计划延长到2030年。请按此作答：…") are the user's claims, not what is asked, and must not decide
    attribution or out-of-range refusals."""
    clauses = [c for c in _CLAUSE.findall(text) if c.strip()]
    asking = [c for c in clauses if _ASKING.search(c)]
    return "".join(asking) if asking and len(clauses) > 1 else text


# a place right before the name of a kind of document ("苏州计划", "江苏数字基础设施指导意见", "江苏省文件") names
# the document; elsewhere ("苏州计划对江苏园区的带动作用") it may be what the document is about
_DESIGNATOR = re.compile(r"^[^，,。；;：:？?！!\s]{0,12}?(?:" + _KINDS + ")")
# "这份文件", "该通知", "本办法", "the plan", "this notice": a message that points at a document
_ENGLISH_KINDS = r"plan|notice|document|opinions?|regulations?|measures|policy|law"
_POINTER = re.compile(
    rf"(?:这份|这个|该|本|此|上述)(?:{_KINDS})|\b(?:the|this|that)\s+(?:\w+\s+){{0,3}}(?:{_ENGLISH_KINDS})\b",
    re.IGNORECASE,
)


# "…计划各要求…", "…意见各定了…": 各 right after the name of a kind of document asks each document in turn
_EACH_DOCUMENT = re.compile(rf"(?:{_KINDS}|省里|市里)各(?![地级类区县市部单项种]|有关)")
_EACH_AFTER_NAME = re.compile(r"各(?![地级类区县市部单项种]|有关)")
# a bare 省/市 that opens a document's name ("省数字基础设施指导意见", "和市计划") names that level's document
_BARE_LEVEL = re.compile(r"(?:^|(?<=[，,。；;：:？?！!、和与跟及同对较比]))([省市])(?!级|里|内|委|政府)")
_BARE_LEVELS = {"省": PROVINCE, "市": CITY}


def compares(text: str) -> bool:
    """The message asks about several things side by side ("分别", "各自", "相比", "vs", "respectively", or
    "…计划各…")."""
    norm = compact(to_simplified(text))
    if _COMPARES.search(norm) or _COMPARES.search(text.lower()) or _EACH_DOCUMENT.search(norm):
        return True
    # "省里跟淄博各…", "苏州和无锡各…": 各 right after the second of the places or levels the message names
    names = place_names(text)
    if len(names) + len(scope_levels(text)) < 2:
        return False
    return any(
        _EACH_AFTER_NAME.match(norm, at + len(compact(name)))
        for name in names
        for at in (norm.find(compact(name)),)
        if at >= 0
    )


def points_at_a_document(text: str) -> bool:
    """The message points at a document ("这份通知", "该办法", "the plan"), whichever it is."""
    return bool(_POINTER.search(to_simplified(text)))


def _places_with_designation(text: str) -> list[tuple[str, bool]]:
    """(canonical place, whether it designates a document) for each place the text names, in order; an English
    place name ("Suzhou") stands for each Chinese place written so (attribution keeps those the library has)."""
    norm = compact(to_simplified(text))
    found: list[tuple[str, bool]] = []
    for name in place_names(text):
        at = norm.find(compact(name))
        designates = at >= 0 and bool(_DESIGNATOR.match(norm[at + len(compact(name)) :]))
        found.append((canonical_place(name), designates))
    # English names count as places, not as designations: "the Zibo plan" read as designating the Zibo plan cost
    # a paraphrase that the unrestricted answer got right (README, rule 35)
    for _, readings in english_place_names(text):
        found += [(r, False) for r in readings if all(r != p for p, _ in found)]
    return found


def mentioned_places(text: str) -> tuple[str, ...]:
    """Canonical places a text names (苏州市 → 苏州): those that designate a document first, then the rest."""
    found = _places_with_designation(text)
    return tuple(dict.fromkeys([p for p, d in found if d] + [p for p, d in found if not d]))


def designated_places(text: str) -> tuple[str, ...]:
    """The places that stand right before a kind of document ("苏州计划" → 苏州)."""
    return tuple(dict.fromkeys(p for p, d in _places_with_designation(text) if d))


def _bare_levels(text: str) -> list[str]:
    """The levels a bare 省/市 designates ("和省数字基础设施指导意见相比" → province)."""
    norm = compact(to_simplified(text))
    return [
        _BARE_LEVELS[m.group(1)] for m in _BARE_LEVEL.finditer(norm) if _DESIGNATOR.match(norm[m.end() :])
    ]


def _designated_scopes(text: str) -> tuple[str, ...]:
    norm = compact(to_simplified(text)).lower()
    found = _bare_levels(text)
    for level, words in SCOPE_WORDS.items():
        for word in words:
            at = norm.find(word.replace(" ", ""))
            if at >= 0 and _DESIGNATOR.match(norm[at + len(word.replace(" ", "")) :].lstrip("的")):
                found.append(level)
                break
    return tuple(found)


# fields that are times: a document's period and deadline, or the time of something the document says it will do
_TIME_FIELDS = frozenset({"period", "deadline"})
# the fields whose day "哪天" / "what date" may ask for besides the day of publication
_OTHER_DAYS = frozenset({"deadline", "effective", "period"})
# words that ask for publication itself, not only for a day
_PUBLISHED_IN_WORDS = re.compile(r"印发|发布|公布|出台|发文|成文|发的|发出|published|issued|released")
_DOCUMENT_TIMES = re.compile(r"执行期|实施期|规划期|what period")  # only ever a document's
_KIND_NAMED = re.compile(rf"{_KINDS}|\b(?:{_ENGLISH_KINDS})s?\b", re.IGNORECASE)


def _fields_asked(question: str, norm: str, lowered: str) -> tuple[str, ...]:
    """The document fields a question asks for. A time field is the document's only when the question names a
    document (a place, a level, a kind of document, "这份…"): "智慧灯杆试点的建成期限" asks when the 试点 is to be
    built, which the sentence about it says, not the document's period."""
    fields = tuple(f for f, p in METADATA_FIELDS.items() if p.search(norm) or p.search(lowered))
    if (
        "published" not in fields
        and _DAY_ASKED.search(norm + lowered)
        and _PUBLISHED_IN_WORDS.search(norm + lowered)
    ):
        # "哪天印发的": the day of publication; a day asked without publication ("验收截止日期是哪天") is the day
        # of what the sentence is about, which its text must give
        fields = tuple(f for f in METADATA_FIELDS if f in fields or f == "published")
    if "published" in fields and _OTHER_DAYS & set(fields) and not _PUBLISHED_IN_WORDS.search(norm + lowered):
        # "截止时间是哪天": 哪天 asks the day of the deadline (or of taking effect), not of publication
        fields = tuple(f for f in fields if f != "published")
    if not _TIME_FIELDS & set(fields) or _DOCUMENT_TIMES.search(norm) or _DOCUMENT_TIMES.search(lowered):
        return fields
    asked = asked_part(question)
    names_a_document = bool(
        mentioned_places(asked)
        or scope_levels(asked)
        or _bare_levels(asked)
        or _KIND_NAMED.search(to_simplified(asked))
        or points_at_a_document(asked)
    )
    return fields if names_a_document else tuple(f for f in fields if f not in _TIME_FIELDS)


# the spoken forms of the language's question words, read as the written ones before the patterns above
# ("啥时候发的" is "什么时候发的", "咋申请" is "怎么申请", "有…没？" is "有…吗？"): a closed class of words
_SPOKEN = (
    (re.compile(r"多会儿|哪会儿"), "什么时候"),
    (re.compile(r"啥"), "什么"),
    (re.compile(r"咋"), "怎么"),
    (re.compile(r"(?<=[\u4e00-\u9fff])没(?:有)?(?=[？?]|$)"), "吗"),
)


def written_form(question: str) -> str:
    """The question with spoken question words in their written form (what the patterns read)."""
    for pattern, written in _SPOKEN:
        question = pattern.sub(written, question)
    return question


def fields_asked(question: str) -> tuple[str, ...]:
    """The document fields a question's words ask for."""
    question = written_form(question)
    return _fields_asked(question, compact(question), question.lower())


def analyze(question: str) -> QuestionAnalysis:
    original, question = question, written_form(question)
    norm = compact(question)
    lowered = question.lower()
    fields = _fields_asked(question, norm, lowered)
    return QuestionAnalysis(
        text=original,
        wants_list=bool(_LIST.search(norm) or _LIST.search(lowered)),
        wants_quantity=bool(_QUANTITY.search(norm) or _QUANTITY.search(lowered)),
        wants_money=bool(_MONEY.search(norm) or _MONEY.search(lowered)),
        metadata_fields=fields,
        worded_fields=fields,
        places=mentioned_places(asked_part(question)),
        designated=designated_places(asked_part(question)),
        scopes=tuple(
            dict.fromkeys([*scope_levels(asked_part(question)), *_bare_levels(asked_part(question))])
        ),
        designated_scopes=tuple(dict.fromkeys(_designated_scopes(asked_part(question)))),
        answer_types=_answer_types(question, fields),
        years=tuple(int(y) for y in re.findall(r"(?<!\d)(20\d\d)(?!\d)", compact(asked_part(question)))),
        ordinal=_ordinal(norm),
        looks_like_follow_up=bool(_FOLLOW_UP.search(norm) or _FOLLOW_UP.search(lowered)) or len(norm) <= 6,
        compares=compares(question),
        items_asked=_items_asked(norm, lowered),
        wants_year=bool(_YEAR_ASKED.search(norm) or _YEAR_ASKED.search(lowered)),
        wants_day=bool(_DAY_ASKED.search(norm) or _DAY_ASKED.search(lowered)),
    )


_YEAR_ASKED = re.compile(r"哪一?年|何年|which year|what year|in what year")
_DAY_ASKED = re.compile(r"哪一?天|何日|几月几[日号]|哪月哪[日号天]|什么日期|which day|what date|on what date")


_ITEMS_ASKED = re.compile(r"哪([两二三四五六七八九十]+)[个项条类种大方份件点座家]")
_ENGLISH_COUNTS = {
    w: n
    for n, w in enumerate(["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"], start=2)
}
_ITEMS_ASKED_EN = re.compile(rf"\bwhich ({'|'.join(_ENGLISH_COUNTS)})\b")


# several documents referred to together, none by name: "这四份文件", "本库的几份文件", "these documents"
_DOCUMENTS_TOGETHER = re.compile(
    r"(?P<lead>这|那|库里|本库|库中|所有|全部|各)(?:的)?(?P<n>[两二三四五六七八九十几]|\d{1,2})?(?:份|个|部|篇)?"
    r"(?:文件|文档|政策文件)(?P<each>分别|各自|各|都)?"
)
_DOCUMENTS_TOGETHER_EN = re.compile(
    r"\b(?:these|the|all|each of the|all the|all of the)\s+(?P<n>two|three|four|five)?\s*(?:documents|policies)\b"
)


def documents_together(question: str) -> int | None:
    """How many documents a question asks about together without naming them ("这四份文件分别由谁印发"
    → 4; "这几份文件分别…" → 0, as many as there are), or None when it does not."""
    norm = compact(question)
    match = next(
        (
            m
            for m in _DOCUMENTS_TOGETHER.finditer(norm)
            if m.group("n") or m.group("each") or m.group("lead") not in ("这", "那")
        ),
        None,
    )
    if match:
        token = match.group("n")
        if not token or token == "几":
            return 0
        return 2 if token == "两" else _ordinal_number(token)
    english = _DOCUMENTS_TOGETHER_EN.search(question.lower())
    if english:
        return _ENGLISH_COUNTS[english.group("n")] if english.group("n") else 0
    return None


# a counted set a question refers to: a number (of at most three digits, or in Chinese numerals) and a measure word
# ("那15个5G产业园", "培育的10个集群", "三类设施"); "11.2万个" and "2022年" are no such count
_COUNTED = re.compile(
    r"(?<![\d.万亿])(\d{1,3}|[两二三四五六七八九十]+)\s*(?:个|项|条|类|种|座|家|所|处|大类|大|方面)"
)


def counts_in(text: str, digits_only: bool = False) -> list[int]:
    """The counts of things a text writes ("建设15个产业园" → [15], "三类设施" → [3]; with `digits_only`, those
    written in digits)."""
    found = []
    for match in _COUNTED.finditer(compact(to_simplified(text))):
        token = match.group(1)
        if digits_only and not token.isdigit():
            continue
        number = number_of(token)
        if number:
            found.append(number)
    return found


def number_of(token: str) -> int | None:
    """A count written in digits or Chinese numerals ("15", "两", "三", "十二"); None for a question word ("几")."""
    if token.isdigit():
        return int(token)
    return 2 if token == "两" else _ordinal_number(token)


def _items_asked(norm: str, lowered: str) -> int | None:
    """How many items a list question asks for ("是哪四个", "哪三类", "which two"), or None."""
    match = _ITEMS_ASKED.search(norm)
    if match:
        return number_of(match.group(1))
    english = _ITEMS_ASKED_EN.search(lowered)
    return _ENGLISH_COUNTS[english.group(1)] if english else None


# a figure written in digits, with its multiplier ("11.2万", "20,000", "1.25", "65%"); not a code such as 5G or IPv6
_FIGURE = re.compile(r"(?<![A-Za-z\d.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(万|亿|千)?(?![A-Za-z\d])")
_MULTIPLIERS = {"万": 1e4, "亿": 1e8, "千": 1e3}
# clauses, a comma or point between digits ("20,000", "11.2") kept inside
_FIGURE_CLAUSE = re.compile(r"(?:[^，,。！!；;：:？?\n]|(?<=\d)[,.](?=\d))+")
# the asker wants a figure they state confirmed or said back ("…2万个，对吗？", "Just confirm that figure", "跟我说…")
_CONFIRMS = re.compile(
    r"对吗|对不对|是吗|是不是|是否属实|是否正确|没错吧|属实吗|确认一下|核实|复述|跟我(?:说|念|读)|照着说|"
    r"\bconfirm\b|\bverify\b|\brepeat\b|"
    r"\bis (?:it|that|this) (?:right|correct|true|accurate)\b|\b(?:right|correct|true)\?",
    re.IGNORECASE,
)


# an instruction to say something ("just say the target is 95%", "就说…"): with no question of its own, what it
# says is a claim the documents must bear out; followed by a question ("…must say 500,000. So, how many…"), the
# question is answered and the instruction ignored
_SAYING = re.compile(r"\b(?:say|write|reply|answer|state)\b|就说|只说|直接说|回答说|回复说", re.IGNORECASE)
_QUESTION_WORD_OR_MARK = re.compile(
    _QUESTION_WORDS + r"|\b(?:what|which|how|when|who|where|whether|why)\b", re.IGNORECASE
)


def figure_values(text: str) -> list[tuple[str, float]]:
    """The figures a text writes, each as written and as a value ("11.2萬個" → 112000; "20,000" → 20000); years
    ("2022年", "by 2023") are no figures."""
    found = []
    plain = to_simplified(fold_width(text))
    for match in _FIGURE.finditer(plain):
        digits, multiplier = match.group(1), match.group(2)
        after = plain[match.end() : match.end() + 1]
        if (
            not multiplier
            and re.fullmatch(r"(?:19|20)\d\d", digits)
            and (after in "年" or after == "" or after in " ,.?")
        ):
            continue
        value = float(digits.replace(",", "")) * _MULTIPLIERS.get(multiplier or "", 1.0)
        # a share is written with its sign ("95%"), so a refusal quotes it as the asker wrote it
        found.append((match.group(0).strip() + ("%" if after == "%" else ""), value))
    return found


def claimed_figures(question: str) -> list[tuple[str, float]]:
    """The figures a question states and asks to have confirmed ("淄博计划说要建2万个基站，对吗？"), as written;
    none when it asks no confirmation (a figure may then only be the asker's circumstances)."""
    if not _CONFIRMS.search(question) and (
        not _SAYING.search(question) or _QUESTION_WORD_OR_MARK.search(question)
    ):
        return []
    kept = _without_asker(_FIGURE_CLAUSE.findall(question))
    return figure_values("，".join(kept))
