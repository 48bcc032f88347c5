"""Where policybot keeps per-user caches (jieba's dictionary, tiktoken's rank files, intent vectors)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """$XDG_CACHE_HOME/policybot, or ~/.cache/policybot."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policybot"
