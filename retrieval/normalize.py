"""Normalisation for matching only: the stored and displayed text always stays original.

Traditional → simplified (OpenCC), full-width → half-width (NFKC), and whitespace folding.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

_WHITESPACE = re.compile(r"\s+")
# a document number written another way: 鲁政字(2020)228号, 鲁政字【2020】228号, 鲁政字2020年228号, 国发〔2020〕第8号
# → 鲁政字[2020]228号 (the issuer code ends in 字/发/函/令; the year is four digits)
_DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fff](?:字|发|函|令))\s*[\[(【]?\s*((?:19|20)\d\d)\s*(?:[\])】]|年)\s*第?\s*(\d{1,4})\s*号"
)
_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC's phrase-aware t2s)."""
    with _converter_lock:  # the native converter is not documented as thread-safe
        return _t2s().convert(text)


def fold_width(text: str) -> str:
    """Full-width digits, letters and punctuation → half-width; also unifies compatibility forms."""
    return unicodedata.normalize("NFKC", text)


def normalize_for_matching(text: str) -> str:
    """The form used for BM25, embeddings, answer checks and eval matching: simplified, half-width,
    lower-case Latin, whitespace folded to single spaces and trimmed."""
    text = fold_width(to_simplified(text))
    text = text.replace("—", "-").replace("〔", "[").replace("〕", "]")
    text = _DOC_NUMBER.sub(r"\1[\2]\3号", text)
    return _WHITESPACE.sub(" ", text).strip().lower()


def compact(text: str) -> str:
    """`normalize_for_matching` without any whitespace: for substring checks across line breaks."""
    return normalize_for_matching(text).replace(" ", "")
