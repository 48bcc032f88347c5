"""One validation for every text a client can send: questions, chat messages, session ids, filters, comments,
document names and chat-channel text.

Text that cannot be encoded as UTF-8 (a lone UTF-16 surrogate such as ``\\ud800``, which JSON allows), NUL and
other control characters, and the invisible bidi controls that reorder what a reader sees (U+202A–U+202E,
U+2066–U+2069) are refused with a clear message instead of failing deep inside the stack (a 500) or being
stored where they could not be read back. Everything else — full-width letters, traditional characters, emoji,
Arabic or Hebrew text, the bidi *marks* U+200E/U+200F — is accepted as sent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

# Tab, line feed and carriage return are ordinary in pasted text and comments; every other C0/C1 control is not.
ALLOWED_CONTROLS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InvalidText(ValueError):
    """A client-supplied text that the service refuses to process or store, with a message for the user."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}：{message}")
        self.field = field
        self.message = message


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def text_problem(text: str, *, single_line: bool = False) -> str | None:
    """Why `text` is refused (a Chinese sentence naming the first offending character), or None when it is fine."""
    for position, char in enumerate(text):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return f"第{position + 1}个字符是孤立的代理项（{_describe(char)}），不是有效的 Unicode 文本"
        if char in BIDI_CONTROLS:
            return f"第{position + 1}个字符是双向文本控制符（{_describe(char)}），可能改变文字的显示顺序"
        category = unicodedata.category(char)
        if category == "Cc" and (single_line or char not in ALLOWED_CONTROLS):
            return f"第{position + 1}个字符是控制字符（{_describe(char)}）"
    return None


def clean_text(text: str, *, field: str, max_chars: int | None = None, single_line: bool = False) -> str:
    """`text` unchanged when it is acceptable; otherwise InvalidText saying which character and why.

    `single_line` also refuses tab and line breaks (identifiers such as session ids and file names)."""
    if not isinstance(text, str):
        raise InvalidText(field, "必须是文本")
    problem = text_problem(text, single_line=single_line)
    if problem:
        raise InvalidText(field, problem + "，请删除后重试。")
    if max_chars is not None and len(text) > max_chars:
        raise InvalidText(field, f"过长（{len(text)}字），请控制在{max_chars}字以内。")
    return text


def _pydantic_check(single_line: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        problem = text_problem(value, single_line=single_line)
        if problem:
            # pydantic turns a ValueError into a 422 item whose msg carries this text
            raise ValueError(problem)
        return value

    return check


# Annotated string types for request models: the same rule as clean_text, reported as a 422 by FastAPI.
ClientText = Annotated[str, AfterValidator(_pydantic_check(single_line=False))]
ClientIdentifier = Annotated[str, AfterValidator(_pydantic_check(single_line=True))]
