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
    return _WHITESPACE.sub(" ", text).strip().lower()


def compact(text: str) -> str:
    """`normalize_for_matching` without any whitespace: for substring checks across line breaks."""
    return normalize_for_matching(text).replace(" ", "")
