"""`policybot eval`: every suite for every chosen configuration in one run, side-by-side tables, reports
under evals/reports/<timestamp>/, comparison with the baseline; and the dataset tools (check-dataset,
import-csv, export-csv, export-feedback)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from evals.compare import check_thresholds, compare, load_baseline, parse_threshold, write_baseline
from evals.datasets import (
    PARAPHRASE_DATASET,
    QA_DATASET,
    QA_TEST_DATASET,
    RETRIEVAL_DATASET,
    DatasetError,
    detect_format,
)
from evals.qa_eval import EVAL_DATE
from evals.retrieval_eval import RETRIEVERS
from evals.runner import SUITES, run_suites, snapshot

REPORTS_DIR = Path(__file__).parent / "reports"
BASELINE = Path(__file__).parent / "baseline.json"
SUITE_ACTIONS = {
    "all": SUITES,
    "retrieval": ("retrieval",),
    "qa": ("qa", "multiturn"),
    "multiturn": ("multiturn",),
    "test": ("test",),
    "paraphrase": ("paraphrase",),
}
TOOL_ACTIONS = ("check-dataset", "import-csv", "export-csv", "export-feedback")


def _err(message: str) -> None:
    print(f"policybot eval: {message}", file=sys.stderr)


def run_eval(args: argparse.Namespace, settings: Settings, service: Any = None) -> int:
    try:
        if getattr(args, "corpus", None) is not None:
            return _run_external(args, settings)
        if args.action in TOOL_ACTIONS:
            return _run_tool(args, settings, service.library if service is not None else None)
        return _run_suites(args, settings, service)
    except DatasetError as exc:
        _err(str(exc))
        return 2


# -- the suites ---------------------------------------------------------------------------------------
def _make_service(settings: Settings) -> Any:
    from bot.service import AssistantService
    from bot.storage.sessions import SqlSessionStore

    # eval conversations go to a throw-away session store, never the users'; answers as of a fixed day;
    # no answer cache: every item must run (and be timed and diagnosed) through the whole chain
    sessions = SqlSessionStore(Path(tempfile.mkdtemp(prefix="policybot-eval-")) / "sessions.sqlite3")
    return AssistantService.from_settings(
        settings, sessions=sessions, clock=lambda: EVAL_DATE, answer_cache_size=0
    )


def _report_dir(root: Path, suffix: str = "") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S") + suffix
    out, n = root / stamp, 1
    while out.exists():
        n += 1
        out = root / f"{stamp}-{n}"
    return out


def _run_suites(args: argparse.Namespace, settings: Settings, service: Any) -> int:
    from evals.judge import judge_for
    from evals.report import markdown, write_reports

    suites = SUITE_ACTIONS[args.action]
    retrieval_dataset: Path | None = RETRIEVAL_DATASET
    qa_dataset: Path | None = QA_DATASET
    # the frozen test split and the paraphrases: their own options; with --dataset only when given
    test_dataset: Path | None = args.test_dataset or (None if args.dataset else QA_TEST_DATASET)
    paraphrase_dataset: Path | None = args.paraphrase_dataset or (
        None if args.dataset else PARAPHRASE_DATASET
    )
    if args.dataset:
        retrieval_dataset = qa_dataset = None
        for path in args.dataset:
            if detect_format(path) == "retrieval":
                retrieval_dataset = path
            else:
                qa_dataset = path
    for option, path in (
        ("--test-dataset", args.test_dataset),
        ("--paraphrase-dataset", args.paraphrase_dataset),
    ):
        if path is not None and not path.is_file():
            _err(f"{option} {path}: file not found")
            return 2
    baseline = None
    if args.compare and not (args.update_baseline and not args.compare.exists()):
        try:
            baseline = load_baseline(args.compare)
        except (OSError, ValueError) as exc:
            _err(f"cannot read the baseline: {exc}")
            return 2
    try:
        thresholds = [parse_threshold(t) for t in args.fail_under]
    except ValueError as exc:
        _err(str(exc))
        return 2

    service = service or _make_service(settings)
    service.library.ensure_built(show_progress=not args.no_progress)
    available = service.modes
    base_suites = (baseline or {}).get("suites", {})
    if args.mode:
        modes = list(dict.fromkeys(args.mode))
    elif baseline is not None:  # compare what the baseline holds
        modes = list(
            dict.fromkeys(m for s in SUITES if s != "retrieval" for m in base_suites.get(s, {}))
        ) or ["extractive"]
    elif args.update_baseline:
        modes = ["extractive"]  # the committed baseline is the deterministic default
    else:
        modes = available
    unknown = [m for m in modes if m not in available]
    if unknown:
        _err(f"answer mode(s) {', '.join(unknown)} not configured; available: {', '.join(available)}")
        return 2
    if args.retriever:
        retrievers = list(dict.fromkeys(args.retriever))
    elif baseline is not None and "retrieval" in base_suites:
        retrievers = [r for r in base_suites["retrieval"] if r in RETRIEVERS]
    else:
        retrievers = list(RETRIEVERS)
    judge = None if args.no_judge else judge_for(service)

    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    run = run_suites(
        service,
        suites=suites,
        retrievers=retrievers,
        modes=modes,
        retrieval_dataset=retrieval_dataset,
        qa_dataset=qa_dataset,
        test_dataset=test_dataset,
        paraphrase_dataset=paraphrase_dataset,
        judge=judge,
        show_progress=not args.no_progress,
    )
    for note in run.notes:
        print(f"note: {note}", file=sys.stderr)
    if not run.retrieval and not run.qa_suites():
        _err("nothing to evaluate (no dataset for the chosen suites)")
        return 2
    snap = snapshot(run)
    comparison = None
    if baseline is not None:
        comparison = compare(
            snap, baseline, args.tolerance, name=str(args.compare), reference_items=args.reference_items
        )
        before, now = baseline.get("datasets") or {}, snap["datasets"]
        changed = {k: (before[k], now[k]) for k in before if k in now and before[k] != now[k]}
        if changed:
            comparison.missing_configs.append(f"(datasets differ: {changed})")
    problems = check_thresholds(run.metrics(), thresholds)
    extra = {
        "index_version": service.library.live.current().version,
        "top_k": service.top_k,
        "eval_date": EVAL_DATE.isoformat(),
    }
    out = write_reports(
        _report_dir(args.reports_dir or REPORTS_DIR), run, created, comparison, problems, extra
    )
    if args.update_baseline:
        target = args.compare or BASELINE
        write_baseline(target, snap)
    if args.json:
        payload: dict[str, Any] = {
            "metrics": run.metrics(),
            "by_type": run.by_type(),
            "reports": str(out),
            "seconds": round(run.seconds, 2),
        }
        if run.notes:
            payload["notes"] = run.notes
        if comparison is not None:
            payload["comparison"] = comparison.as_dict()
        if problems:
            payload["fail_under"] = problems
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(markdown(run, comparison, problems))
        print(f"eval took {run.seconds:.1f} s; reports: {out}/report.html")
        if args.update_baseline:
            print(f"baseline written: {args.compare or BASELINE}")
    failed = bool(problems) or (comparison is not None and not comparison.ok and not args.update_baseline)
    return 1 if failed else 0


# -- bring your own corpus ----------------------------------------------------------------------------
def _run_external(args: argparse.Namespace, settings: Settings) -> int:
    from evals.external import markdown, run_external, write_external_reports

    if args.action != "all" or not args.dataset or len(args.dataset) != 1:
        _err(
            "--corpus DIR needs exactly one --dataset FILE (reference answers: question, answer) and no suite"
        )
        return 2
    if args.compare or args.update_baseline or args.fail_under:
        _err("--corpus runs are not compared with the baseline (--compare/--update-baseline/--fail-under)")
        return 2
    if args.mode and len(args.mode) > 1:
        _err("--corpus takes one --mode")
        return 2
    if not args.corpus.is_dir():
        _err(f"{args.corpus}: not a directory")
        return 2
    created = time.strftime("%Y-%m-%dT%H:%M:%S")
    run = run_external(
        settings,
        args.corpus,
        args.dataset[0],
        limit=args.limit,
        evidence_removed=args.evidence_removed,
        seed=args.seed,
        plain_files=args.plain_files,
        mode=args.mode[0] if args.mode else None,
        show_progress=not args.no_progress,
    )
    out = write_external_reports(_report_dir(args.reports_dir or REPORTS_DIR, "-external"), run, created)
    if args.json:
        payload = {
            "metrics": run.metrics(),
            "index": run.index.as_dict(),
            "reports": str(out),
            "seconds": round(run.seconds, 2),
        }
        if run.evidence_removed is not None:
            payload["evidence_removed"] = run.evidence_removed.metrics()
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(markdown(run))
        print(f"eval took {run.seconds:.1f} s; reports: {out}/report.md")
    return 0


# -- dataset tools ------------------------------------------------------------------------------------
def _run_tool(args: argparse.Namespace, settings: Settings, library: Any = None) -> int:
    from evals import dataset_tools

    needed = {"check-dataset": 1, "import-csv": 2, "export-csv": 2, "export-feedback": 0}[args.action]
    if len(args.paths) != needed:
        usage = {
            "check-dataset": "check-dataset PATH",
            "import-csv": "import-csv CSV OUT.jsonl",
            "export-csv": "export-csv JSONL OUT.csv",
            "export-feedback": "export-feedback [--out PATH]",
        }[args.action]
        _err(f"usage: policybot eval {usage}")
        return 2
    if args.action == "check-dataset":
        if library is None:
            from bot.library_factory import make_library

            library = make_library(settings)
        library.ensure_built(show_progress=not args.no_progress)
        documents, _ = library.load_documents()
        sections = [(c.doc_id, c.section_path) for c in library.live.current().chunks]
        path = args.paths[0]
        kind, errors, warnings = dataset_tools.check_dataset(
            path, {d.doc_id: d.text for d in documents}, sections
        )
        for message in warnings:
            print(f"{path}: warning: {message}")
        for message in errors:
            print(f"{path}: {message}")
        if errors:
            print(f"{path}: {len(errors)} problem(s) ({kind} dataset)")
            return 1
        print(f"{path}: ok ({kind} dataset)")
        return 0
    if args.action == "export-csv":
        source, out = args.paths
        if detect_format(source) != "qa":
            _err(f"{source} is not a QA dataset")
            return 2
        count = dataset_tools.export_csv(source, out)
        print(f"{count} items written to {out}")
        return 0
    if args.action == "import-csv":
        source, out = args.paths
        count, problems = dataset_tools.import_csv(source, out)
        for message in problems:
            print(f"{source}: {message}")
        if problems:
            return 1
        print(f"{count} items written to {out}; check them with `policybot eval check-dataset {out}`")
        return 0
    db = settings.resolved(settings.data_dir) / "feedback.sqlite3"
    drafts, skipped = dataset_tools.export_feedback(db)
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in drafts)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(lines, encoding="utf-8")
        print(f"{len(drafts)} draft item(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    if skipped:
        print(
            f"{skipped} thumbs-down answer(s) skipped: the answer was not logged "
            "(log_answers off, pruned after log_retention_days, or answered before answers were logged)",
            file=sys.stderr,
        )
    return 0
