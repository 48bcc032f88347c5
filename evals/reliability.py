"""Runs every fault, bad-input and fuzz case (pytest, JUnit XML) and writes evals/reports/reliability.md: one row
per case with what it expects, and a fuzzing table with how many inputs each fuzz target was tried on.

.venv/bin/python -m evals.reliability

The cases are tests/reliability plus the named tests of other files listed in SUITES (those files are not
changed; a name that disappears shows up as a failing "not collected" row). evals/reliability_plugin.py
selects them and counts the inputs of every Hypothesis/schemathesis test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "evals" / "reports" / "reliability.md"


@dataclass(frozen=True)
class Suite:
    path: str
    area: str
    cases: dict[str, str] = field(default_factory=dict)  # test function name -> expectation
    every_test: bool = False  # also run the file's tests not named in cases
    fuzz_target: str | None = None  # its Hypothesis tests go to the fuzzing table under this target
    short_ids: bool = False  # show only the first "-" part of a parametrize id (ids made from bytes)


SUITES = [
    Suite(
        "tests/reliability/test_reliability.py",
        "index, store, restart, load, bad input",
        {
            "test_sigkill_during_index_keeps_previous_version": "SIGKILL while `policybot index` embeds: CURRENT "
            "unchanged, search serves the old content, the next `policybot index` completes and publishes",
            "test_chroma_unreachable_degrades_then_recovers": "Chroma unreachable: BM25-only answer with the "
            "degraded notice, /readyz 200, not degraded once pointed back at a working store",
            "test_restart_keeps_sessions_feedback_and_uploads": "sessions, feedback and an uploaded document "
            "survive a new service/app over the same data dir",
            "test_concurrent_uploads_deletes_and_questions": "20 s of concurrent uploads/deletes/questions: no "
            "5xx, every acknowledged upload searchable unless deleted",
            "test_bad_ask_inputs": "4xx problem JSON, or a normal (refusal) answer for odd but valid questions; "
            "never 5xx",
            "test_bad_ask_invalid_utf8": "4xx problem JSON",
            "test_bad_ask_raw_json": "lone surrogates, NUL and bidi controls in valid JSON: 422 naming the character on "
            "/v1/ask, its SSE form and /v1/chat/completions; mixed-width and RTL-mark text answered (200)",
            "test_bad_ask_wrong_content_type": "4xx problem JSON",
            "test_bad_uploads": "4xx problem JSON, nothing stored",
            "test_path_traversal_document_id": "4xx for GET and DELETE",
        },
        every_test=True,
    ),
    Suite(
        "tests/bot/test_openai_mode.py",
        "LLM endpoint faults",
        {
            "test_endpoint_failures_fall_back_within_the_timeout": "endpoint answers HTTP 500 / invalid JSON / "
            "4 s late with a 2 s timeout: extractive answer with the 模型服务不可用 notice; the LLM step took "
            "< 3.5 s (the timeout held)",
            "test_invented_number_falls_back_to_extractive": "model invents a number (20万 for 11.2万): "
            "verification fails, extractive answer with the 未通过核验 notice",
            "test_bad_citation_falls_back": "model cites [9], a passage it was not given: extractive answer "
            "with the 未通过核验 notice",
            "test_model_refusal_after_a_relevant_gate_falls_back_to_the_extract": "model refuses although the "
            "passages are relevant: the cited extract, with a notice",
        },
    ),
    Suite(
        "tests/reliability/test_llm_faults.py",
        "LLM endpoint faults",
        {
            "test_llm_endpoint_down_over_http": "`POST /v1/ask` mode openai, endpoint down (connection "
            "refused): 200, extractive answer with the 模型服务不可用 notice, LLM step < timeout (2 s) + 1.5 s",
            "test_llm_endpoint_down_over_http_stream": "the same over SSE (`?stream=true`): the done event "
            "carries the extractive answer and the notice",
            "test_llm_endpoint_hangs_past_the_timeout_over_http": "endpoint replies only after 8 s: 200 with "
            "the extractive answer and notice once the 2 s timeout expires (one attempt, no retry), before 8 s",
        },
        every_test=True,
    ),
    Suite(
        "tests/reliability/test_injection.py",
        "prompt injection in a document",
        {
            "test_injection_extractive_on_topic_question_gets_the_content": "extractive: a question on the "
            "injected document's real content gets that sentence, cited; no 已越狱, no 100万",
            "test_injection_extractive_question_about_the_claimed_place_is_not_answered_from_it": "extractive: "
            "淄博每个5G基站补贴多少钱？ is refused; the injected claim is never attributed to 淄博",
            "test_injection_extractive_quotes_never_obeys": "extractive: the injected sentence appears only "
            "verbatim and whole, cited to its own document under its title; never 已越狱 as the answer",
            "test_injection_prompt_marks_passages_as_data": "openai: the system prompt says instructions in "
            "passages are only text (rule 4); the passage is sent under 政策条文, apart from 问题, with the "
            "sentence that addresses the model left out",
            "test_injection_obeying_model_is_replaced_by_the_extract": "openai, the model obeys with an invented "
            "number / a [n] of no passage / no citation: rejected, extractive answer + 未通过核验 notice",
            "test_injection_obeying_model_repeating_the_passage_is_caught": "openai, the model obeys by "
            "repeating the injected passage's own claim with a valid [n]: the claim was never in what it was given, "
            "so verification rejects it; extractive answer + notice",
        },
        every_test=True,
    ),
    Suite(
        "tests/bot/api/test_api.py",
        "access control and uploads",
        {
            "test_api_keys": "API keys set: no key or a wrong key → 401 problem JSON; a listed key as Bearer "
            "or X-API-Key → 200; /healthz stays open",
            "test_upload_ask_and_delete": "uploads/deletes: no or a wrong admin key → 403; a .pdf without the "
            "%PDF magic bytes → 422; a valid upload is answerable, then deleted",
            "test_document_operations_disabled_without_admin_key": "no admin key configured: uploads refused "
            "(403)",
            "test_upload_too_large_is_413": "upload over 10 MB → 413 problem JSON",
            "test_rate_limit": "per-client rate limit 2/min: the third request → 429",
        },
    ),
    Suite(
        "tests/retrieval/test_documents.py",
        "access control and uploads",
        {
            "test_bad_file_raises_document_error_naming_the_file": "bad files (not UTF-8, empty, .pdf without "
            "%PDF, corrupt PDF/.docx, broken YAML, NUL bytes, unsupported type): DocumentError naming the file",
            "test_load_corpus_reports_bad_files_and_loads_the_rest": "a corpus folder with bad and duplicate "
            "files: each reported by name, the rest loaded",
        },
        short_ids=True,
    ),
    Suite(
        "tests/bot/channels/telegram/test_bot.py",
        "Telegram",
        {
            "test_unauthorised_user_gets_exactly_one_refusal": "allowlist, messages: an outsider's questions "
            "and /start get exactly one refusal and are never answered; an allowed user is answered",
            "test_rate_limit": "per-user rate limit 2/min: the third question is not asked, the user is told",
            "test_exception_gives_apology_and_bot_keeps_running": "the service raises: an apology, the bot "
            "keeps handling updates",
        },
    ),
    Suite(
        "tests/reliability/test_telegram_access.py",
        "Telegram",
        {
            "test_telegram_outsider_button_presses_are_refused": "allowlist, callbacks: an outsider's 👍/👎, "
            "原文 and example buttons store, show and ask nothing, one refusal; they work for an allowed user",
        },
        every_test=True,
    ),
    Suite(
        "tests/bot/channels/telegram/test_webhook.py",
        "Telegram",
        {
            "test_wrong_secret_is_forbidden": "webhook with a wrong secret token → 403 problem JSON, nothing "
            "queued",
            "test_missing_secret_is_unauthorised": "webhook without the secret token → 401, nothing queued",
            "test_bad_body": "webhook body that is not JSON → 400",
        },
    ),
    Suite(
        "tests/retrieval/test_normalize.py",
        "fuzzing",
        {
            "test_normalize_for_matching_is_idempotent_and_total": "arbitrary Unicode: normalize_for_matching "
            "returns, is idempotent, folds whitespace, keeps compact() equal",
            "test_normalize_for_matching_is_idempotent_on_chinese_text": "CJK / full-width / compatibility text: "
            "idempotent, no full-width ASCII survives",
        },
        fuzz_target="normaliser",
    ),
    Suite(
        "tests/retrieval/test_chunking.py",
        "fuzzing",
        {
            "test_chunking_properties_on_synthetic_documents": "generated policy documents (numbered headings, "
            "metadata lines, run-on sentences): every chunk invariant holds",
            "test_chunking_properties_on_arbitrary_text": "arbitrary text: every chunk invariant holds",
        },
        fuzz_target="chunker",
    ),
    Suite(
        "tests/retrieval/test_documents_fuzz.py",
        "fuzzing",
        {
            "test_text_loaders_on_arbitrary_bytes": ".md/.markdown/.txt, arbitrary bytes: a usable document "
            "or DocumentError naming the file, nothing else",
            "test_markdown_front_matter": "front matter from YAML-ish pieces (bad dates, deep nesting, aliases, "
            "tags, odd keys): a usable document or DocumentError",
            "test_html_loader": "generated HTML (odd tags, bad character references): a usable document or "
            "DocumentError",
            "test_docx_loader": "mutated .docx (bytes and inner XML), arbitrary zips, random bytes: a usable "
            "document or DocumentError",
            "test_pdf_loader": "mutated PDF, %PDF + random bytes, random bytes: a usable document or "
            "DocumentError",
            "test_any_name_and_bytes": "any file name and suffix with any bytes: a usable document or "
            "DocumentError",
            "test_front_matter_yaml_cannot_build_is_a_document_error": "regressions fuzzing found: impossible "
            "date, deep nesting, alias expansion → DocumentError",
            "test_front_matter_keys_become_strings": "regression: non-string front-matter keys become strings "
            "(JSON manifest, content hash)",
        },
        every_test=True,
        fuzz_target="loaders",
    ),
    Suite(
        "tests/bot/api/test_schemathesis.py",
        "fuzzing",
        {
            "test_no_server_error": "schemathesis requests from the OpenAPI schema to a live uvicorn server, "
            "admin key presented: no 5xx",
            "test_every_operation_documented": "every operation has a 2xx schema and examples",
            "test_fuzzing_reached_the_server": "the server's own metrics: ≥ 100 requests arrived, none was 5xx",
        },
        every_test=True,
        fuzz_target="HTTP API (schemathesis)",
    ),
    Suite("tests/reliability", "other reliability tests", every_test=True),  # files added later
]


def _suite_of(path: str) -> Suite | None:
    exact = [s for s in SUITES if s.path == path]
    if exact:
        return exact[0]
    return next((s for s in SUITES if path.startswith(s.path.rstrip("/") + "/")), None)


def _path_of(classname: str) -> str:
    """JUnit classname (tests.bot.test_openai_mode[.Class]) → tests/bot/test_openai_mode.py."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if (REPO / candidate).is_file():
            return candidate
    return classname


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _selection() -> list[dict[str, object]]:
    selection: list[dict[str, object]] = []
    for suite in SUITES:
        if any(s["path"] == suite.path for s in selection):
            continue
        selection.append({"path": suite.path, "names": sorted(suite.cases), "every_test": suite.every_test})
    return selection


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="reliability-"))
    try:
        xml_path, select_path, out_path = work / "junit.xml", work / "select.json", work / "counts.json"
        select_path.write_text(json.dumps(_selection(), ensure_ascii=False), encoding="utf-8")
        order = [s.path for s in SUITES]
        paths = sorted({s.path for s in SUITES if (REPO / s.path).exists()}, key=order.index)
        paths = [p for p in paths if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in paths)]
        command = [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "-q",
            "-s",
            "-rxX",
            "-p",
            "no:cacheprovider",
            "-p",
            "evals.reliability_plugin",
            f"--reliability-select={select_path}",
            f"--reliability-out={out_path}",
            "--continue-on-collection-errors",
            f"--junitxml={xml_path}",
        ]
        run = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        sys.stdout.write(run.stdout[-4000:])
        summary, failing = write_report(xml_path, out_path, run.stdout, run.returncode)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for line in summary:
        print(line.replace("**", ""))
    print(f"wrote {REPORT}")
    return run.returncode or (1 if failing else 0)  # a case not collected fails too


def _result(case: ET.Element) -> str:
    failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
    if failure is not None or error is not None:
        node = failure if failure is not None else error
        return f"FAIL: {_cell(node.get('message') or '')[:160]}"
    if skipped is not None and skipped.get("type") == "pytest.xfail":
        return f"known gap (xfail): {_cell(skipped.get('message') or '')[:200]}"
    if skipped is not None:
        return f"skipped: {_cell(skipped.get('message') or '')[:120]}"
    return "pass"


def _case_rows(xml_path: Path, missing: list[list[str]]) -> list[tuple[str, str, str, str, float]]:
    """(area, case, expectation, result, seconds), in SUITES order; cases JUnit names alike (schemathesis:
    one per API operation) share one row."""
    rows: dict[tuple[str, str], list] = {}
    cases = ET.parse(xml_path).getroot().iter("testcase") if xml_path.exists() else iter(())
    for case in cases:
        name = case.get("name", "")
        path = _path_of(case.get("classname", ""))
        suite = _suite_of(path)
        base, bracket, params = name.partition("[")
        if suite and suite.short_ids and bracket:
            name = f"{base}[{params.split('-', 1)[0].rstrip(']')}]"
        area = suite.area if suite else "other"
        key = (area, f"`{Path(path).stem}::{name}`")
        result, seconds = _result(case), float(case.get("time", 0))
        if key in rows:  # the same name again
            row = rows[key]
            row[2] += 1
            row[3] = row[3] if row[3] != "pass" else result
            row[4] += seconds
        else:
            rows[key] = [_cell(suite.cases.get(base, "") if suite else ""), "", 1, result, seconds]
    for path, name in missing:
        suite = _suite_of(path)
        label = f"`{Path(path).stem}::{name if name != '*' else '(any test)'}`"
        rows[(suite.area if suite else "other", label)] = [
            _cell(suite.cases.get(name, "") if suite else ""),
            "",
            1,
            "FAIL: not collected (renamed or removed? update SUITES in evals/reliability.py)",
            0.0,
        ]
    order = list(dict.fromkeys(s.area for s in SUITES))
    out = [
        (area, label + (f" ×{n}" if n > 1 else ""), expectation, result, seconds)
        for (area, label), (expectation, _, n, result, seconds) in rows.items()
    ]
    out.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    return out


def write_report(xml_path: Path, out_path: Path, stdout: str, returncode: int) -> tuple[list[str], int]:
    """Writes REPORT from pytest's JUnit XML, the plugin's counts and pytest's stdout; returns the summary
    lines and the number of failing cases."""
    counts = re.findall(r"RELIABILITY-COUNTS (.*)", stdout)
    extra = (
        json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {"missing": [], "fuzz": {}}
    )
    rows = _case_rows(xml_path, extra["missing"])

    fuzz: dict[tuple[str, str], list[int]] = {}  # (target, test) -> [items, tried, failed]
    for nodeid, c in extra["fuzz"].items():
        path, _, name = nodeid.partition("::")
        suite = _suite_of(path)
        target = suite.fuzz_target if suite and suite.fuzz_target else path
        entry = fuzz.setdefault((target, name.split("[")[0]), [0, 0, 0])
        entry[0] += 1
        entry[1] += c["tried"]
        entry[2] += c["failed"]
    tried = sum(v[1] for v in fuzz.values())
    failed = sum(v[2] for v in fuzz.values())

    cases = [int(m.group(1)) if (m := re.search(r" ×(\d+)$", r[1])) else 1 for r in rows]
    passed = sum(n for n, r in zip(cases, rows, strict=True) if r[3] == "pass")
    gaps = sum(n for n, r in zip(cases, rows, strict=True) if r[3].startswith("known gap"))
    failing = sum(n for n, r in zip(cases, rows, strict=True) if r[3].startswith("FAIL"))
    summary = [
        f"**{passed} of {sum(cases)} cases pass**, {failing} fail, {gaps} known gap(s) marked xfail "
        f"(pytest exit code {returncode}).",
        f"**Fuzzing: {tried} inputs tried across {len({t for t, _ in fuzz})} targets, {failed} failed** "
        "(a failure is any exception other than the loaders' DocumentError, or any 5xx from the API).",
    ]
    lines = [
        "# Reliability report",
        "",
        f"Generated by `make reliability` (`python -m evals.reliability`) on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        *(line for s in summary for line in (s, "")),
    ]
    if counts:
        lines += [f"Concurrency run: {counts[-1]}", ""]
    lines += [
        "## Fuzzing",
        "",
        "Inputs tried = the number of inputs each test body ran on (explicit examples, the Hypothesis example "
        "database and generated inputs; for schemathesis, one request each); failing inputs include a "
        "failing test's shrinking attempts.",
        "",
        "| target | test | inputs tried | failing inputs |",
        "|---|---|---:|---:|",
    ]
    for (target, name), (items, n, bad) in sorted(fuzz.items()):
        test = f"`{name}`" + (f" ({items} API operations)" if items > 1 else "")
        lines.append(f"| {target} | {test} | {n} | {bad} |")
    lines += [
        "",
        "## Cases",
        "",
        "A row marked ×n stands for n cases JUnit names alike (schemathesis: one per API operation).",
        "",
        "| area | case | expectation | result | s |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {n} | {e} | {r} | {t:.1f} |" for a, n, e, r, t in rows]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return summary, failing


if __name__ == "__main__":
    raise SystemExit(main())
