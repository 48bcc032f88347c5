"""`make audit`: pip-audit over requirements.lock, with the accepted issues of .ci/audit-exceptions.txt, and a summary
that says how much was really audited.

    python .ci/audit.py [--lock FILE] [--exceptions FILE] [--report FILE] [--strict]

pip-audit runs with `--no-deps --disable-pip` (the lock pins everything; nothing is resolved or installed) against
PyPI's vulnerability data, every exception id passed as `--ignore-vuln`. Its JSON report goes to
evals/reports/audit/pip-audit.json.

Exit status (the policy):
  1  a vulnerability that is not a documented exception was found (always);
  1  with AUDIT_STRICT=1 (or --strict): any package could not be audited, the vulnerability service could not be
     reached, or requirements.lock does not match the installed environment;
  0  otherwise — and when nothing or only part could be audited, a loud warning says so: that is not a pass;
  2  pip-audit failed for a reason other than the network, or the exceptions file is malformed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
EXCEPTIONS = ROOT / ".ci" / "audit-exceptions.txt"
REPORT = ROOT / "evals" / "reports" / "audit" / "pip-audit.json"

# Signs, in pip-audit's stderr, that it died because the vulnerability service could not be reached.
NETWORK_ERRORS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "Could not connect",
    "network may be blocking",
    "timed out",
    "Timeout",
)
SKIP_SUFFIX = re.compile(r":\s*\S+ \([^()]*\)\s*$")  # "...could not be audited: requests (2.19.0)"
IGNORED = re.compile(r"(?:ignored (\d+)|(\d+) ignored)")
BANNER = "!" * 100


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    description: str = ""

    def ids(self) -> set[str]:
        return {self.id, *self.aliases}


@dataclass
class Summary:
    total: int = 0
    audited: list[str] = field(default_factory=list)  # "name==version"
    skipped: dict[str, str] = field(default_factory=dict)  # name -> pip-audit's skip reason
    findings: list[Finding] = field(default_factory=list)  # not covered by an exception: these fail the audit
    accepted: list[Finding] = field(default_factory=list)  # covered by a documented exception


def read_exceptions(text: str) -> dict[str, str]:
    """{vulnerability id: why it is accepted} from the exceptions file: `ID  # reason`, one a line; `#` lines are
    comments. An id without a reason is an error: every exception must say why it is accepted."""
    accepted: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = line.partition("#")
        vuln_id, reason = vuln_id.strip(), reason.strip()
        if not vuln_id or " " in vuln_id:
            raise ValueError(f"line {number}: expected `ID  # reason`, got {raw!r}")
        if not reason:
            raise ValueError(
                f"line {number}: exception {vuln_id} has no reason (`{vuln_id}  # why it is accepted`)"
            )
        accepted[vuln_id] = reason
    return accepted


def summarize(report: Mapping, exceptions: Mapping[str, str]) -> Summary:
    """Count a pip-audit JSON report (`-f json`): audited and skipped packages, findings split into the ones a
    documented exception covers (matched on the id or any alias, as pip-audit's --ignore-vuln does) and the rest."""
    summary = Summary()
    for dep in report.get("dependencies", []):
        summary.total += 1
        name = dep.get("name", "?")
        if "skip_reason" in dep:
            summary.skipped[name] = dep["skip_reason"]
            continue
        version = dep.get("version", "?")
        summary.audited.append(f"{name}=={version}")
        for vuln in dep.get("vulns", []):
            finding = Finding(
                package=name,
                version=version,
                id=vuln.get("id", "?"),
                aliases=tuple(vuln.get("aliases", ())),
                fix_versions=tuple(vuln.get("fix_versions", ())),
                description=vuln.get("description", "") or "",
            )
            (summary.accepted if finding.ids() & exceptions.keys() else summary.findings).append(finding)
    return summary


def skip_groups(skipped: Mapping[str, str]) -> Counter:
    """Skip reasons without their trailing `: name (version)`, counted."""
    return Counter(SKIP_SUFFIX.sub("", reason) for reason in skipped.values())


def decide(summary: Summary, strict: bool, stale_lock: list[str] | None = None) -> tuple[int, list[str]]:
    """The policy: exit status and the lines to print for a report pip-audit wrote."""
    stale_lock = stale_lock or []
    lines: list[str] = []
    audited, skipped, total = len(summary.audited), len(summary.skipped), summary.total
    lines.append(f"audited:  {audited} of {total} packages")
    lines.append(f"skipped:  {skipped} of {total} packages (could not be audited)")
    for reason, count in skip_groups(summary.skipped).most_common():
        example = next(n for n, r in summary.skipped.items() if SKIP_SUFFIX.sub("", r) == reason)
        lines.append(f"    {count:4d} x {reason}  (e.g. {example})")
    lines.append(
        f"vulnerabilities: {len(summary.findings)} not covered by an exception"
        + (f", {len(summary.accepted)} accepted by a documented exception" if summary.accepted else "")
    )
    for f in summary.findings:
        fix = ", ".join(f.fix_versions) or "no fixed version"
        alias = f" ({', '.join(f.aliases)})" if f.aliases else ""
        lines.append(f"    {f.package}=={f.version}: {f.id}{alias}; fixed in: {fix}. {f.description[:160]}")
    for f in summary.accepted:
        lines.append(f"    accepted: {f.package}=={f.version}: {f.id}")
    for line in stale_lock:
        lines.append(f"requirements.lock: {line}")

    if summary.findings:
        lines.append(f"FAIL: {len(summary.findings)} known vulnerabilities without a documented exception.")
        return 1, lines
    problems: list[str] = []
    if total and not audited:
        problems.append(
            f"NOTHING WAS AUDITED: all {total} packages were skipped, so no vulnerability data was checked. "
            "This is NOT a pass. (When every package is 'not found on PyPI', the vulnerability service is most "
            "likely unreachable from this network.)"
        )
    elif skipped:
        problems.append(f"only {audited} of {total} packages were audited; {skipped} could not be.")
    if not total:
        problems.append("pip-audit reported no packages at all.")
    if stale_lock:
        problems.append("requirements.lock does not match the installed environment (run `make lock`).")
    if not problems:
        lines.append(
            f"OK: {audited} packages audited, no known vulnerabilities without a documented exception."
        )
        return 0, lines
    lines += [BANNER, *(f"WARNING: {p}" for p in problems), BANNER]
    if strict:
        lines.append("FAIL (AUDIT_STRICT=1): the audit is incomplete.")
        return 1, lines
    lines.append("exit 0 because AUDIT_STRICT is not set; set AUDIT_STRICT=1 where the service is reachable.")
    return 0, lines


def decide_no_report(returncode: int, stderr: str, strict: bool) -> tuple[int, list[str]]:
    """The policy when pip-audit wrote no report: a network failure counts as 'nothing audited', anything else
    is an error."""
    tail = [f"    {line}" for line in stderr.strip().splitlines()[-5:]]
    if any(sign in stderr for sign in NETWORK_ERRORS):
        lines = [
            BANNER,
            f"WARNING: NOTHING WAS AUDITED: pip-audit could not reach the vulnerability service (exit {returncode}).",
            "This is NOT a pass.",
            *tail,
            BANNER,
        ]
        if strict:
            return 1, [*lines, "FAIL (AUDIT_STRICT=1): the audit is incomplete."]
        return 0, [*lines, "exit 0 because AUDIT_STRICT is not set."]
    return 2, [f"ERROR: pip-audit exited {returncode} without a report:", *tail]


def pip_audit_command(lock: Path, report: Path, exceptions: Mapping[str, str]) -> list[str]:
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(lock), "--no-deps", "--disable-pip"]
    cmd += ["--format", "json", "--output", str(report), "--progress-spinner", "off"]
    for vuln_id in sorted(exceptions):
        cmd += ["--ignore-vuln", vuln_id]
    return cmd


def lock_differences(lock: Path) -> list[str]:
    """What differs between the lock and the installed environment (empty when they match or when it can't be
    computed here)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import lock as lockfile  # .ci/lock.py

        return lockfile.differences(lock.read_text(encoding="utf-8"), lockfile.render(lockfile.closure()))
    except SystemExit as exc:  # policybot is not installed in this interpreter
        return [f"could not compare with the environment: {exc}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lock", type=Path, default=LOCK)
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--strict", action="store_true", default=os.environ.get("AUDIT_STRICT") == "1")
    parser.add_argument(
        "--no-lock-check", action="store_true", help="don't compare the lock with the environment"
    )
    args = parser.parse_args(argv)

    try:
        exceptions = read_exceptions(args.exceptions.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"ERROR: {args.exceptions}: {exc}")
        return 2
    stale = [] if args.no_lock_check else lock_differences(args.lock)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.unlink(missing_ok=True)
    cmd = pip_audit_command(args.lock, args.report, exceptions)
    print(
        f"== pip-audit over {args.lock.name}, {len(exceptions)} documented exceptions ({args.exceptions.name}),"
        f" strict={'yes' if args.strict else 'no'} =="
    )
    print("$ " + " ".join(cmd[2:]).replace(str(ROOT) + "/", ""), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    noise = ("--no-deps is supported", "Consider using a tool like `pip-compile`")
    for line in proc.stderr.strip().splitlines()[-3:]:
        if not any(n in line for n in noise) and not line.startswith((" ", "Traceback")):
            note = "  (its own verdict: skipped packages count as clean)" if "No known vuln" in line else ""
            print(f"pip-audit: {line}{note}")

    if not args.report.exists() or not args.report.read_text(encoding="utf-8").strip():
        code, lines = decide_no_report(proc.returncode, proc.stderr, args.strict)
    else:
        report = json.loads(args.report.read_text(encoding="utf-8"))
        code, lines = decide(summarize(report, exceptions), args.strict, stale)
        ignored = IGNORED.search(proc.stderr)
        if ignored:
            lines.insert(
                3, f"pip-audit ignored {ignored.group(1) or ignored.group(2)} as documented exceptions"
            )
        lines.append(
            f"report: {args.report.relative_to(ROOT) if args.report.is_relative_to(ROOT) else args.report}"
        )
    print("\n".join(lines))
    print(f"audit exit status: {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())
