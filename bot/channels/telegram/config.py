"""Telegram settings, read from `Settings` with `getattr` (the fields may not exist yet) and from
environment variables as a fallback."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.channels.conversation import Access
from bot.channels.conversation import parse_ids as parse_channel_ids

DEFAULT_RATE_LIMIT_PER_MINUTE = 20

# attribute on Settings -> environment variable used when the attribute is missing or empty
SETTING_NAMES: dict[str, str] = {
    "telegram_bot_token": "TELEGRAM_BOT_TOKEN",
    "telegram_base_url": "TELEGRAM_BASE_URL",
    "telegram_allowed_user_ids": "TELEGRAM_ALLOWED_USER_IDS",
    "telegram_allowed_chat_ids": "TELEGRAM_ALLOWED_CHAT_IDS",
    "telegram_admin_user_ids": "TELEGRAM_ADMIN_USER_IDS",
    "telegram_webhook_secret": "TELEGRAM_WEBHOOK_SECRET",
    "telegram_rate_limit_per_minute": "TELEGRAM_RATE_LIMIT_PER_MINUTE",
}


def _plain(value: Any) -> Any:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def _raw(settings: Any, name: str) -> Any:
    value = _plain(getattr(settings, name, None))
    if value in (None, "", [], (), set(), frozenset()):
        env = SETTING_NAMES[name]
        value = os.environ.get(f"POLICYBOT_{env}") or os.environ.get(env)
    return value


def parse_ids(value: Any) -> frozenset[int]:
    """`"1, 2;3"`, `[1, "2"]`, `5` or None -> frozenset of ints."""
    return parse_channel_ids(value, int)


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    allowed_user_ids: frozenset[int] = field(default_factory=frozenset)
    allowed_chat_ids: frozenset[int] = field(default_factory=frozenset)
    admin_user_ids: frozenset[int] = field(default_factory=frozenset)
    webhook_secret: str = ""
    rate_limit_per_minute: int = DEFAULT_RATE_LIMIT_PER_MINUTE
    data_dir: Path = Path("data")
    database_url: str | None = None  # Settings.database_url: feedback in PostgreSQL instead of data_dir
    log_answers: bool = True  # Settings.log_answers: every answer sent goes to the answer log
    log_retention_days: int = 90  # Settings.log_retention_days: older logged answers are pruned

    @classmethod
    def from_settings(cls, settings: Any) -> TelegramConfig:
        data_dir = Path(getattr(settings, "data_dir", "data") or "data")
        resolved = getattr(settings, "resolved", None)
        if callable(resolved):
            data_dir = resolved(data_dir)
        rate = _raw(settings, "telegram_rate_limit_per_minute")
        retention = getattr(settings, "log_retention_days", None)
        return cls(
            token=str(_raw(settings, "telegram_bot_token") or ""),
            base_url=str(_raw(settings, "telegram_base_url") or "").rstrip("/"),
            allowed_user_ids=parse_ids(_raw(settings, "telegram_allowed_user_ids")),
            allowed_chat_ids=parse_ids(_raw(settings, "telegram_allowed_chat_ids")),
            admin_user_ids=parse_ids(_raw(settings, "telegram_admin_user_ids")),
            webhook_secret=str(_raw(settings, "telegram_webhook_secret") or ""),
            rate_limit_per_minute=int(rate) if rate not in (None, "") else DEFAULT_RATE_LIMIT_PER_MINUTE,
            data_dir=data_dir,
            database_url=getattr(settings, "database_url", None) or None,
            log_answers=bool(getattr(settings, "log_answers", True)),
            log_retention_days=int(retention) if retention not in (None, "") else 90,
        )

    @property
    def access(self) -> Access:
        return Access(self.allowed_user_ids, self.allowed_chat_ids, self.admin_user_ids)

    @property
    def open_access(self) -> bool:
        return self.access.open

    def is_allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        """Open when both allowlists are empty; otherwise an allowed user (anywhere), anyone in an
        allowed chat, or an admin."""
        return self.access.allows(user_id, chat_id)

    def is_admin(self, user_id: int | None) -> bool:
        return self.access.is_admin(user_id)
