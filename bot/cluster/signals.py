"""The "new index version" signal: Redis publish/subscribe when Redis is configured, else nothing (replicas
then notice a new version by polling the database, every `index_poll_seconds`)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

log = logging.getLogger("policybot.cluster")
CHANNEL = "policybot:index"


class VersionSignal(Protocol):
    def publish(self, version: str) -> None: ...
    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when a new version was announced meanwhile."""
        ...

    def close(self) -> None: ...


class NoSignal:
    def __init__(self) -> None:
        self._stop = threading.Event()

    def publish(self, version: str) -> None:
        return None

    def wait(self, timeout: float) -> bool:
        self._stop.wait(timeout)
        return False

    def close(self) -> None:
        self._stop.set()


class RedisSignal:
    """Publishes on one channel; `wait` listens on it (one subscription per process, made on first use)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._pubsub: Any = None
        self._stop = threading.Event()

    def publish(self, version: str) -> None:
        try:
            self.client.publish(CHANNEL, version)
        except Exception:  # replicas still find the version by polling
            log.warning("could not announce index %s on Redis; replicas will find it by polling", version)

    def wait(self, timeout: float) -> bool:
        try:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(CHANNEL)
            message = self._pubsub.get_message(timeout=timeout)
        except Exception:
            self._pubsub = None  # resubscribe next time; meanwhile behave like polling
            self._stop.wait(timeout)
            return False
        return message is not None and message.get("type") == "message"

    def close(self) -> None:
        self._stop.set()
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except Exception:
                log.debug("closing the Redis subscription failed", exc_info=True)
