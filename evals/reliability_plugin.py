"""pytest plugin for `make reliability` (`-p evals.reliability_plugin`; evals/reliability.py passes it).

--reliability-select=FILE  JSON list of {"path": ..., "names": [...], "every_test": bool}: keep only the
                           tests under path with those function names (or all of them with every_test).
                           Names that match no collected test are reported as missing rather than
                           stopping the run.
--reliability-out=FILE     JSON written at the end: {"missing": [[path, name], ...],
                           "fuzz": {nodeid: {"tried": n, "failed": m}}}

Fuzz counts: every Hypothesis test (schemathesis's too) has its inner test wrapped for the run, so
"tried" is the number of inputs the test body really ran on (explicit examples, replayed database
entries and generated ones) and "failed" the number of those that raised (assertions, crashes, 5xx
checks; a failing test also counts its shrinking attempts). Outside `make reliability` nothing changes.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

_SELECT = "reliability_select"
_OUT = "reliability_out"
_counts: dict[str, dict[str, int]] = {}
_missing: list[tuple[str, str]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reliability")
    group.addoption("--reliability-select", dest=_SELECT, default=None, help="JSON selection file")
    group.addoption("--reliability-out", dest=_OUT, default=None, help="JSON file for counts")


def _base(item: pytest.Item) -> str:
    return item.name.split("[", 1)[0]


def _path(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _matches(path: str, selector: str) -> bool:
    return path == selector or path.startswith(selector.rstrip("/") + "/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    select = config.getoption(_SELECT)
    if not select:
        return
    selectors: list[dict[str, Any]] = json.loads(Path(select).read_text(encoding="utf-8"))
    kept, dropped, seen = [], [], set()
    for item in items:
        path, base = _path(item), _base(item)
        hit = False
        for s in selectors:
            if _matches(path, s["path"]) and (s["every_test"] or base in s["names"]):
                hit = True
                seen.update({(s["path"], base), (s["path"], "*")})
        (kept if hit else dropped).append(item)
    for s in selectors:
        for name in [*s["names"], *(["*"] if s["every_test"] else [])]:
            if (s["path"], name) not in seen:
                _missing.append((s["path"], name))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


_CONTROL_FLOW: tuple[type[BaseException], ...] | None = None


def _control_flow() -> tuple[type[BaseException], ...]:
    """Exceptions Hypothesis and pytest use to steer a run: neither a failure nor a crash."""
    global _CONTROL_FLOW
    if _CONTROL_FLOW is None:
        from _pytest.outcomes import Skipped
        from hypothesis.errors import StopTest, UnsatisfiedAssumption

        _CONTROL_FLOW = (StopTest, UnsatisfiedAssumption, Skipped)
    return _CONTROL_FLOW


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    if inner is None or not callable(inner):
        return (yield)
    count = _counts.setdefault(f"{_path(item)}::{item.name}", {"tried": 0, "failed": 0})

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        count["tried"] += 1
        try:
            return inner(*args, **kwargs)
        except _control_flow():
            count["tried"] -= 1  # rejected before it was a real input
            raise
        except BaseException:
            count["failed"] += 1
            raise

    handle.inner_test = counted
    try:
        return (yield)
    finally:
        handle.inner_test = inner


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = session.config.getoption(_OUT)
    if out:
        Path(out).write_text(
            json.dumps({"missing": _missing, "fuzz": _counts}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
