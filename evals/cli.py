"""`policybot eval`: runs the retrieval and QA suites and writes reports under evals/reports/<timestamp>/."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.service import AssistantService
from bot.sessions import SQLiteSessionStore
from evals.datasets import QA_DATASET, RETRIEVAL_DATASET, DatasetError
from evals.qa_eval import by_type, evaluate_qa, qa_table, results_as_dicts, summarize
from evals.retrieval_eval import evaluate_retrieval, retrieval_summary, retrieval_table

REPORTS_DIR = Path(__file__).parent / "reports"


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    # eval conversations go to a throw-away session store, never the users'
    sessions = SQLiteSessionStore(Path(tempfile.mkdtemp(prefix="policybot-eval-")) / "sessions.sqlite3")
    service = AssistantService.from_settings(settings, sessions=sessions)
    service.library.ensure_built(show_progress=True)
    report: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    markdown: list[str] = []
    try:
        if args.suite in ("all", "retrieval"):
            results = evaluate_retrieval(
                service.library,
                args.dataset or RETRIEVAL_DATASET if args.suite == "retrieval" else RETRIEVAL_DATASET,
            )
            report["retrieval"] = retrieval_summary(results)
            markdown += ["## Retrieval", "", retrieval_table(results), ""]
        if args.suite in ("all", "qa"):
            dataset = args.dataset if args.suite == "qa" and args.dataset else QA_DATASET
            qa = evaluate_qa(service, dataset, mode=args.mode)
            summary, types = summarize(qa), by_type(qa)
            report["qa"] = {
                "mode": args.mode or service.default_mode,
                "overall": summary,
                "by_type": types,
                "items": results_as_dicts(qa),
            }
            markdown += [f"## QA ({args.mode or service.default_mode})", "", qa_table(summary, types), ""]
    except DatasetError as exc:
        print(f"policybot: {exc}")
        return 2
    out = REPORTS_DIR / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.md").write_text("\n".join(markdown), encoding="utf-8")
    if args.json:
        print(
            json.dumps(
                {k: v for k, v in report.items() if k != "qa"}
                | ({"qa": {k: v for k, v in report["qa"].items() if k != "items"}} if "qa" in report else {}),
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print("\n".join(markdown))
        print(f"reports: {out}")
    return 0
