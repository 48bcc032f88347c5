"""The policy of `make audit` (.ci/audit.py) on recorded and hand-written pip-audit reports, and the lock helpers
(.ci/lock.py). Offline and fast: pip-audit itself is never run here."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"ci_{name}", REPO / ".ci" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


audit = load("audit")
lock = load("lock")


def report(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_offline_report_is_not_a_pass_and_fails_only_when_strict():
    summary = audit.summarize(report("offline-skipped.json"), {})
    assert (summary.total, len(summary.audited), len(summary.skipped), summary.findings) == (2, 0, 2, [])
    code, lines = audit.decide(summary, strict=False)
    text = "\n".join(lines)
    assert code == 0
    assert "audited:  0 of 2 packages" in text
    assert "2 x Dependency not found on PyPI and could not be audited  (e.g. requests)" in text
    assert "NOTHING WAS AUDITED" in text and "NOT a pass" in text
    assert "OK:" not in text
    code, lines = audit.decide(summary, strict=True)
    assert code == 1 and "FAIL (AUDIT_STRICT=1)" in lines[-1]


def test_vulnerabilities_without_an_exception_fail_even_when_not_strict():
    summary = audit.summarize(report("vulnerable.json"), {})
    assert (summary.total, len(summary.audited), len(summary.skipped)) == (4, 3, 1)
    assert [f.id for f in summary.findings] == [
        "GHSA-x84v-xcm2-53pg",
        "GHSA-j8r2-6x86-q33q",
        "GHSA-462w-v97r-4m45",
    ]
    code, lines = audit.decide(summary, strict=False)
    text = "\n".join(lines)
    assert code == 1
    assert "vulnerabilities: 3 not covered by an exception" in text
    assert "requests==2.19.0: GHSA-x84v-xcm2-53pg (CVE-2018-18074); fixed in: 2.20.0." in text


def test_documented_exceptions_match_ids_and_aliases():
    exceptions = {"CVE-2018-18074": "r", "GHSA-j8r2-6x86-q33q": "r", "GHSA-462w-v97r-4m45": "r"}
    summary = audit.summarize(report("vulnerable.json"), exceptions)
    assert summary.findings == [] and len(summary.accepted) == 3
    code, lines = audit.decide(summary, strict=False)
    assert code == 0  # one package still skipped: warned about, fails only when strict
    assert "only 3 of 4 packages were audited" in "\n".join(lines)
    assert audit.decide(summary, strict=True)[0] == 1
    partial = audit.summarize(report("vulnerable.json"), {"CVE-2018-18074": "r"})
    assert [f.id for f in partial.findings] == ["GHSA-j8r2-6x86-q33q", "GHSA-462w-v97r-4m45"]
    assert audit.decide(partial, strict=False)[0] == 1


def test_complete_clean_audit_passes_and_a_stale_lock_fails_when_strict():
    clean = {"dependencies": [{"name": "idna", "version": "3.20", "vulns": []}], "fixes": []}
    summary = audit.summarize(clean, {})
    assert audit.decide(summary, strict=True) == (
        0,
        [
            "audited:  1 of 1 packages",
            "skipped:  0 of 1 packages (could not be audited)",
            "vulnerabilities: 0 not covered by an exception",
            "OK: 1 packages audited, no known vulnerabilities without a documented exception.",
        ],
    )
    stale = ["not in requirements.lock: newpkg==1.0"]
    assert audit.decide(summary, strict=False, stale_lock=stale)[0] == 0
    code, lines = audit.decide(summary, strict=True, stale_lock=stale)
    assert code == 1 and "requirements.lock: not in requirements.lock: newpkg==1.0" in lines
    assert audit.decide(audit.summarize({"dependencies": []}, {}), strict=True)[0] == 1


def test_no_report_network_failure_versus_other_errors():
    network = "requests.exceptions.ConnectionError: ... Failed to resolve (NameResolutionError)"
    assert audit.decide_no_report(1, network, strict=False)[0] == 0
    assert "NOTHING WAS AUDITED" in "\n".join(audit.decide_no_report(1, network, strict=False)[1])
    assert audit.decide_no_report(1, network, strict=True)[0] == 1
    assert audit.decide_no_report(1, "ValueError: bad requirement line", strict=False)[0] == 2


def test_exceptions_file_format():
    text = "# comment\n\nPYSEC-2023-1  # pkg 1.0: CLI only, never run\nCVE-2024-2 # why\n"
    assert audit.read_exceptions(text) == {
        "PYSEC-2023-1": "pkg 1.0: CLI only, never run",
        "CVE-2024-2": "why",
    }
    with pytest.raises(ValueError, match="no reason"):
        audit.read_exceptions("PYSEC-2023-1\n")
    with pytest.raises(ValueError, match="no reason"):
        audit.read_exceptions("PYSEC-2023-1   #   \n")
    # the committed file parses, and every exception there is passed to pip-audit
    committed = audit.read_exceptions((REPO / ".ci" / "audit-exceptions.txt").read_text(encoding="utf-8"))
    cmd = audit.pip_audit_command(REPO / "requirements.lock", Path("/tmp/r.json"), {"A-1": "r", **committed})
    assert cmd[1:3] == ["-m", "pip_audit"] and "--no-deps" in cmd and "--disable-pip" in cmd
    assert cmd.count("--ignore-vuln") == len(committed) + 1 and "A-1" in cmd


def test_committed_lock_pins_everything_exactly_and_leaves_out_opt_in_tools():
    text = (REPO / "requirements.lock").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(line.count("==") == 1 and " " not in line for line in lines)
    pins = lock.read_pins(text)
    assert len(pins) == len(lines) > 50
    for name in ("fastapi", "chromadb", "pytest", "ruff", "pip", "typing-extensions", "numpy"):
        assert name in pins
    for name in ("llama-cpp-python", "diskcache", "jinja2", "pip-audit", "policybot"):
        assert name not in pins


def test_lock_differences():
    assert lock.differences("a==1\nB_c==2\n", "# header\nb-c==2\na==1\n") == []
    assert lock.differences("a==1\nold==3\n", "a==2\nnew==1\n") == [
        "not in requirements.lock: new==1",
        "in requirements.lock but not needed: old==3",
        "a: requirements.lock has 1, installed 2",
    ]
