"""`policybot serve --workers N` forks its workers from a process that has imported the stack once."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from uvicorn import _subprocess

from bot.cli import _fork_workers_from_a_preloaded_stack


def test_workers_are_forked_when_no_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_subprocess, "spawn", multiprocessing.get_context("spawn"))
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    _fork_workers_from_a_preloaded_stack()
    assert _subprocess.spawn.get_start_method() == "fork"


def test_workers_are_spawned_once_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forking a process with running threads (a model, a client) is unsafe: keep spawning."""
    monkeypatch.setattr(_subprocess, "spawn", multiprocessing.get_context("spawn"))
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    _fork_workers_from_a_preloaded_stack()
    assert _subprocess.spawn.get_start_method() == "spawn"
