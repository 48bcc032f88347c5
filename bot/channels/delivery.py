"""Sending a reply to a chat platform's API: bounded attempts, exponential backoff, every failure logged.

Each channel says what a failure means (`classify`): try again after a pause (network errors, HTTP 5xx,
"system busy", rate limits), try again at once after renewing credentials (an expired access token), or give
up (a permanent error: retrying cannot help). Blocking: channels call it from a worker thread."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF = 0.5  # seconds before the second attempt; doubled after each failure


class Verdict(enum.Enum):
    RETRY = "retry"
    REFRESH = "refresh"
    GIVE_UP = "give up"


class DeliveryError(RuntimeError):
    """A message could not be delivered (a permanent error, or every attempt failed); already logged."""


def deliver(
    send: Callable[[], T],
    *,
    what: str,
    classify: Callable[[Exception], tuple[Verdict, str]],
    log: logging.Logger,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    refresh: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`send()` until it returns; `classify(exc)` gives the verdict and a short reason for the log. An
    exception that `classify` does not recognise should be re-raised by it (a bug is not a delivery failure)."""
    attempts = max(1, attempts)
    delay = backoff
    for attempt in range(1, attempts + 1):
        try:
            return send()
        except Exception as exc:
            verdict, reason = classify(exc)
            if verdict is Verdict.GIVE_UP:
                log.error("%s failed: %s (not retried)", what, reason)
                raise DeliveryError(f"{what}: {reason}") from exc
            if attempt == attempts:
                log.error("%s failed after %d attempts: %s", what, attempts, reason)
                raise DeliveryError(f"{what}: failed after {attempts} attempts ({reason})") from exc
            if verdict is Verdict.REFRESH:
                log.info("%s: %s; renewing credentials and trying again", what, reason)
                refresh()
                continue
            log.warning("%s failed (%s); retry %d of %d in %.2fs", what, reason, attempt, attempts - 1, delay)
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises
