"""Where policybot keeps per-user caches (jieba's dictionary, the English → Chinese dictionary, tiktoken's rank
files, intent vectors), and how a cache file is written."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def user_cache_dir() -> Path:
    """$XDG_CACHE_HOME/policybot, or ~/.cache/policybot."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policybot"


def write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file in one rename (readers never see half of it); a read-only home is no error, the
    cache is then rebuilt on the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        pass
