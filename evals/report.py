"""Reports of a run: console/Markdown tables side by side, report.json (every item), report.md and a
self-contained report.html (inline CSS, charts as base64 PNG data URIs, every text escaped)."""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evals.compare import Comparison
from evals.qa_eval import QA_HEADLINE, QAItemResult, by_type, summarize
from evals.retrieval_eval import RetrievalItemResult
from evals.runner import EvalRun

QA_ROWS = (*QA_HEADLINE, "consistency", "evidence_retrieved", "judge_faithfulness", "p50_ms", "p95_ms")
RETRIEVAL_COLUMNS = ("n", "hit@1", "hit@5", "mrr", "p50_ms", "p95_ms")
SUITE_TITLES = {
    "retrieval": "Retrieval (k=5)",
    "qa": "QA (single question)",
    "multiturn": "Multi-turn QA",
    "test": "Test split (frozen; single questions and conversations)",
    "paraphrase": "Paraphrases of dev items (per style; consistency with the dev answer)",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}" if value >= 10 else f"{value:.3f}"
    return str(value)


# -- tables ------------------------------------------------------------------------------------------
def _retrieval_rows(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    header = ["retriever", *RETRIEVAL_COLUMNS]
    rows = [[name, *(_fmt(s.metrics()[c]) for c in RETRIEVAL_COLUMNS)] for name, s in run.retrieval.items()]
    return header, rows


def _retrieval_type_rows(run: EvalRun) -> tuple[list[str], list[list[str]]]:
    types = sorted({t for s in run.retrieval.values() for t in s.by_type()})
    header = ["type (MRR)", "n", *run.retrieval]
    rows = []
    for t in types:
        first = next(iter(run.retrieval.values())).by_type().get(t, {})
        rows.append(
            [
                t,
                _fmt(first.get("n", 0)),
                *(_fmt(s.by_type().get(t, {}).get("mrr")) for s in run.retrieval.values()),
            ]
        )
    return header, rows


def _qa_rows(run: EvalRun, suite: str) -> tuple[list[str], list[list[str]]]:
    metrics = run.metrics()[suite]
    header = ["metric", *metrics]
    rows = [["n", *(_fmt(m["n"]) for m in metrics.values())]]
    for name in QA_ROWS:
        if any(name in m for m in metrics.values()):
            rows.append([name, *(_fmt(m.get(name)) for m in metrics.values())])
    return header, rows


def _qa_type_rows(run: EvalRun, suite: str) -> tuple[list[str], list[list[str]]]:
    types_by_mode = run.by_type()[suite]
    types = sorted({t for m in types_by_mode.values() for t in m})
    if suite == "paraphrase":  # per style: accuracy and consistency side by side
        header = ["style", "n"]
        for mode in types_by_mode:
            header += [f"{mode} accuracy", f"{mode} consistency"]
        rows = []
        for t in types:
            n = next((m[t]["n"] for m in types_by_mode.values() if t in m), 0)
            cells = [
                _fmt(m.get(t, {}).get(k)) for m in types_by_mode.values() for k in ("accuracy", "consistency")
            ]
            rows.append([t, str(n), *cells])
        return header, rows
    header = ["type (accuracy)", "n", *types_by_mode]
    rows = []
    for t in types:
        n = next((m[t]["n"] for m in types_by_mode.values() if t in m), 0)
        rows.append([t, str(n), *(_fmt(m.get(t, {}).get("accuracy")) for m in types_by_mode.values())])
    return header, rows


def _dev_test_rows(run: EvalRun) -> list[tuple[list[str], list[list[str]]]]:
    """Dev (qa.jsonl: single questions and conversations) and the frozen test split side by side, per mode:
    the metrics, then accuracy per question type."""
    modes = [m for m in run.test if run.dev(m)]
    dev = {m: summarize(run.dev(m)) for m in modes}
    test = {m: summarize(run.test[m]) for m in modes}
    header = ["metric"] + [f"{split}/{m}" for m in modes for split in ("dev", "test")]
    rows = [["n", *(_fmt(s[m]["n"]) for m in modes for s in (dev, test))]]
    rows += [
        [name, *(_fmt(s[m].get(name)) for m in modes for s in (dev, test))]
        for name in QA_ROWS
        if any(name in s[m] for m in modes for s in (dev, test))
    ]
    dev_types = {m: by_type(run.dev(m)) for m in modes}
    test_types = {m: by_type(run.test[m]) for m in modes}
    types = sorted({t for m in modes for t in (*dev_types[m], *test_types[m])})
    type_header = ["type (accuracy)"] + [f"{split}/{m} (n)" for m in modes for split in ("dev", "test")]
    type_rows = [
        [
            t,
            *(
                f"{_fmt(g[m][t]['accuracy'])} ({g[m][t]['n']})" if t in g[m] else "–"
                for m in modes
                for g in (dev_types, test_types)
            ),
        ]
        for t in types
    ]
    return [(header, rows), (type_header, type_rows)]


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def tables(run: EvalRun) -> list[tuple[str, list[tuple[list[str], list[list[str]]]]]]:
    """(section title, [tables]) for every suite that ran."""
    out = []
    if run.test and any(run.dev(m) for m in run.test):
        out.append(("Dev and test side by side", _dev_test_rows(run)))
    if run.retrieval:
        out.append((SUITE_TITLES["retrieval"], [_retrieval_rows(run), _retrieval_type_rows(run)]))
    for suite in run.qa_suites():
        out.append((SUITE_TITLES[suite], [_qa_rows(run, suite), _qa_type_rows(run, suite)]))
    return out


def markdown(
    run: EvalRun, comparison: Comparison | None = None, threshold_problems: list[str] | None = None
) -> str:
    lines = [f"Note: {note}" for note in run.notes] + ([""] if run.notes else [])
    for title, section in tables(run):
        lines += [f"## {title}", ""]
        for header, rows in section:
            lines += [_markdown_table(header, rows), ""]
    if run.judge:
        lines += [f"LLM-judge faithfulness by {run.judge} ({run.judge_errors} unusable judgements).", ""]
    if comparison is not None:
        lines += [comparison.render(), ""]
    if threshold_problems:
        lines += ["## --fail-under", "", *[f"- {p}" for p in threshold_problems], ""]
    return "\n".join(lines)


# -- JSON ----------------------------------------------------------------------------------------------
def qa_record(r: QAItemResult) -> dict[str, Any]:
    data = asdict(r)
    expected = {k: data.pop(k) for k in ("answerable", "expect_all", "expect_none")}
    expected["evidence"] = data.pop("evidence")
    return {
        "id": data.pop("id"),
        "type": data.pop("type"),
        "question": data.pop("question"),
        "turns": data.pop("turns"),
        "expected": expected,
        "passed": data.pop("passed"),
        "reasons": data.pop("reasons"),
        "diagnosis": data.pop("diagnosis"),
        "answer": data.pop("answer"),
        "refused": data.pop("refused"),
        "citations": data.pop("citations"),
        "latency_ms": round(data.pop("latency_ms"), 3),
        **data,
    }


def retrieval_record(r: RetrievalItemResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "type": r.type,
        "query": r.query,
        "gold": [{"doc_id": d, "section_path": p} for d, p in r.gold],
        "rank": r.rank,
        "retrieved": [{"doc_id": d, "section_path": p} for d, p in r.retrieved],
        "latency_ms": round(r.latency_ms, 3),
    }


def report_json(
    run: EvalRun, created: str, comparison: Comparison | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "created": created,
        "seconds": round(run.seconds, 2),
        "datasets": run.datasets,
        "configurations": {
            "retrievers": list(run.retrieval),
            "modes": list({**run.qa, **run.multiturn, **run.test, **run.paraphrase}),
        },
        "notes": run.notes,
        **(extra or {}),
        "metrics": run.metrics(),
        "by_type": run.by_type(),
    }
    if run.judge:
        data["judge"] = {"name": run.judge, "unusable": run.judge_errors}
    if run.retrieval:
        data["retrieval"] = {
            name: {"items": [retrieval_record(r) for r in s.items]} for name, s in run.retrieval.items()
        }
    for suite, runs in run.qa_suites().items():
        data[suite] = {mode: {"items": [qa_record(r) for r in results]} for mode, results in runs.items()}
    if comparison is not None:
        data["comparison"] = comparison.as_dict()
    return data


# -- charts --------------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(run: EvalRun) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out: dict[str, str] = {}
    panels: list[tuple[str, dict[str, dict[str, float]]]] = []
    modes = list({**run.qa, **run.multiturn})
    if modes:
        accuracy: dict[str, dict[str, float]] = {}
        for mode in modes:
            results = run.qa.get(mode, []) + run.multiturn.get(mode, [])
            per_type: dict[str, list[bool]] = {}
            for r in results:
                per_type.setdefault(r.type, []).append(r.passed)
            accuracy[mode] = {t: sum(v) / len(v) for t, v in per_type.items()}
        panels.append(("QA accuracy by question type", accuracy))
    if run.retrieval:
        panels.append(
            (
                "Retrieval MRR by query type",
                {n: {t: m["mrr"] for t, m in s.by_type().items()} for n, s in run.retrieval.items()},
            )
        )
    if panels:
        heights = [
            max(2.5, 0.35 * len({t for v in p[1].values() for t in v}) * max(1, len(p[1])) / 1.5)
            for p in panels
        ]
        fig, axes = plt.subplots(len(panels), 1, figsize=(8, sum(heights) + 1), squeeze=False)
        for ax, (title, data) in zip(axes[:, 0], panels, strict=True):
            types = sorted({t for v in data.values() for t in v})
            width = 0.8 / max(1, len(data))
            y = np.arange(len(types))
            for i, (config, values) in enumerate(data.items()):
                ax.barh(y + i * width, [values.get(t, 0) for t in types], height=width, label=config)
            ax.set_yticks(y + width * (len(data) - 1) / 2, types)
            ax.invert_yaxis()
            ax.set_xlim(0, 1)
            ax.set_title(title)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
            ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        out["accuracy"] = _png(fig)
    if modes:
        fig, axes = plt.subplots(1, len(modes), figsize=(3.6 * len(modes), 3.2), squeeze=False)
        for ax, mode in zip(axes[0], modes, strict=True):
            results = run.qa.get(mode, []) + run.multiturn.get(mode, [])
            matrix = np.array(
                [
                    [
                        sum(1 for r in results if r.answerable == a and r.refused == refused)
                        for refused in (False, True)
                    ]
                    for a in (True, False)
                ]
            )
            ax.imshow(matrix, cmap="Blues")
            for (i, j), count in np.ndenumerate(matrix):
                dark = count > matrix.max() / 2
                ax.text(
                    j,
                    i,
                    str(count),
                    ha="center",
                    va="center",
                    color="white" if dark else "black",
                    fontsize=12,
                )
            ax.set_xticks([0, 1], ["answered", "refused"])
            ax.set_yticks([0, 1], ["answerable", "unanswerable"])
            ax.set_xlabel("system")
            ax.set_ylabel("expected")
            ax.set_title(f"Refusals: {mode}")
        out["refusals"] = _png(fig)
    latencies: dict[str, list[float]] = {}
    for mode in modes:
        latencies[f"qa/{mode}"] = [r.latency_ms for r in run.qa.get(mode, []) + run.multiturn.get(mode, [])]
    for name, scores in run.retrieval.items():
        latencies[f"retrieval/{name}"] = [r.latency_ms for r in scores.items]
    latencies = {k: [max(v, 0.01) for v in vs] for k, vs in latencies.items() if vs}
    if latencies:
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(latencies) + 1.5))
        ax.boxplot(list(latencies.values()), orientation="horizontal", tick_labels=list(latencies))
        ax.set_xscale("log")
        ax.set_xlabel("latency per item (ms, log scale)")
        ax.set_title("Latency distribution")
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        out["latency"] = _png(fig)
    return out


# -- HTML ----------------------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0 1.2em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
details{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.3em .7em}summary{cursor:pointer}
pre{white-space:pre-wrap;background:#f8f8f8;padding:.5em;border-radius:3px}.bad{color:#b00020}.good{color:#1b7f3b}
.tag{display:inline-block;font-size:.8em;padding:0 .4em;border-radius:3px;background:#eee;margin-right:.3em}
img{max-width:100%}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _html_table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            numeric = (
                i > 0
                and cell.replace(".", "", 1).replace("–", "").replace("+", "").replace("-", "").isdigit()
            )
            cells.append(f'<td class="num">{_e(cell)}</td>' if numeric else f"<td>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _mark(flag: bool | None) -> str:
    if flag is None:
        return "?"
    return '<span class="good">yes</span>' if flag else '<span class="bad">no</span>'


def _failure(r: QAItemResult) -> str:
    parts = [
        f'<details><summary><span class="tag">{_e(r.diagnosis)}</span><b>{_e(r.id)}</b> '
        f"({_e(r.type)}) {_e(r.question)}</summary>"
    ]
    if r.paraphrase_of:
        agrees = {True: "yes", False: "no", None: "source not answered"}[r.consistent]
        parts.append(
            f"<p>Paraphrase of {_e(r.paraphrase_of)} ({_e(r.style)}); consistent with its answer: {_e(agrees)}</p>"
        )
    if r.turns:
        parts.append("<p>Conversation:</p><ol>" + "".join(f"<li>{_e(t)}</li>" for t in r.turns) + "</ol>")
        if r.standalone_question and r.standalone_question != r.question:
            parts.append(f"<p>Standalone question used: {_e(r.standalone_question)}</p>")
    expected = ["answerable" if r.answerable else "unanswerable (should be refused)"]
    if r.expect_all:
        expected.append("must contain: " + "; ".join(" or ".join(g) for g in r.expect_all))
    if r.expect_none:
        expected.append("must not contain: " + "; ".join(r.expect_none))
    parts.append("<p><b>Expected:</b> " + _e(" · ".join(expected)) + "</p>")
    if r.evidence:
        rows = "".join(
            f"<tr><td>{_e(e['doc_id'])}</td><td>{_e(e['quote'])}</td><td>{_mark(e.get('retrieved'))}</td>"
            f"<td>{_mark(e['cited'])}</td></tr>"
            for e in r.evidence
        )
        parts.append(
            "<table><thead><tr><th>evidence document</th><th>quote</th><th>retrieved</th><th>cited</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
    answered = f"refused ({r.refusal_reason})" if r.refused else "answered"
    parts.append(f"<p><b>Answer</b> ({_e(answered)}):</p><pre>{_e(r.answer)}</pre>")
    parts.append(
        "<p><b>Why it failed:</b></p><ul>" + "".join(f"<li>{_e(x)}</li>" for x in r.reasons) + "</ul>"
    )
    if r.citations:
        rows = "".join(
            f"<tr><td>[{_e(c['n'])}]</td><td>{_e(c['doc_id'])}</td><td>{_e(c['section_path'])}</td>"
            f"<td>{_e(c['quote'])}</td></tr>"
            for c in r.citations
        )
        parts.append(
            "<p><b>Passages cited:</b></p><table><thead><tr><th>n</th><th>document</th><th>section</th>"
            f"<th>quote</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append("<p><b>Passages cited:</b> none</p>")
    if r.retrieved is not None:
        parts.append(
            "<p><b>Sections retrieved</b> (candidates, best first):</p><ol>"
            + "".join(f"<li>{_e(p['doc_id'])} · {_e(p['section_path'])}</li>" for p in r.retrieved)
            + "</ol>"
        )
    parts.append("</details>")
    return "".join(parts)


def _retrieval_misses(name: str, items: list[RetrievalItemResult]) -> str:
    misses = [r for r in items if r.rank != 1]
    rows = "".join(
        f"<tr><td>{_e(r.id)}</td><td>{_e(r.type)}</td><td>{_e(r.query)}</td>"
        f"<td>{_e('; '.join(f'{d} · {p}' for d, p in r.gold))}</td><td>{_e(r.rank or 'miss')}</td>"
        f"<td>{_e('; '.join(f'{d} · {p}' for d, p in r.retrieved[:3]))}</td></tr>"
        for r in misses
    )
    return (
        f"<details><summary>{_e(name)}: {len(misses)} queries not at rank 1</summary><table><thead><tr><th>id</th>"
        "<th>type</th><th>query</th><th>gold</th><th>rank</th><th>top 3 retrieved</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details>"
    )


def render_html(
    run: EvalRun,
    created: str,
    comparison: Comparison | None = None,
    threshold_problems: list[str] | None = None,
    images: dict[str, str] | None = None,
) -> str:
    images = charts(run) if images is None else images
    body = [f"<h1>policybot eval report</h1><p>{_e(created)} · {run.seconds:.1f} s · datasets: "]
    body.append(_e(", ".join(f"{k}: {v}" for k, v in run.datasets.items())) + "</p>")
    body += [f"<p><b>Note:</b> {_e(note)}</p>" for note in run.notes]
    body.append(
        '<p>Contents: <a href="#summary">summary</a> · <a href="#charts">charts</a> · '
        '<a href="#comparison">comparison</a> · <a href="#failures">failures</a></p><h2 id="summary">Summary</h2>'
    )
    for title, section in tables(run):
        body.append(f"<h3>{_e(title)}</h3>")
        body += [_html_table(h, rows) for h, rows in section]
    if run.judge:
        body.append(
            f"<p>LLM-judge faithfulness by {_e(run.judge)}; {run.judge_errors} unusable judgements.</p>"
        )
    body.append('<h2 id="charts">Charts</h2>')
    captions = {
        "accuracy": "Accuracy per question type per answer mode (QA, all items) and MRR per query type per retriever.",
        "refusals": "Refusal confusion matrix per answer mode (expected vs. what the system did).",
        "latency": "Latency per item, per configuration.",
    }
    for key, uri in images.items():
        body.append(
            f'<figure><img alt="{_e(key)}" src="{_e(uri)}"><figcaption>{_e(captions.get(key, key))}</figcaption></figure>'
        )
    body.append('<h2 id="comparison">Comparison with the baseline</h2>')
    if comparison is None:
        body.append("<p>No baseline given (run with <code>--compare evals/baseline.json</code>).</p>")
    else:
        verdict = "no regression" if comparison.ok else "REGRESSION"
        body.append(f'<p class="{"good" if comparison.ok else "bad"}"><b>{_e(verdict)}</b></p>')
        body.append("<ul>" + "".join(f"<li>{_e(p)}</li>" for p in comparison.problems) + "</ul>")
        changed = [d for d in comparison.deltas if d["delta"]]
        body.append(
            _html_table(
                ["suite", "configuration", "metric", "baseline", "now", "Δ"],
                [
                    [
                        d["suite"],
                        d["config"],
                        d["metric"],
                        f"{d['before']:.3f}",
                        f"{d['after']:.3f}",
                        f"{d['delta']:+.3f}",
                    ]
                    for d in changed
                ],
            )
            if changed
            else "<p>No metric changed.</p>"
        )
        for title, flips in (
            ("pass → fail", comparison.regressed),
            ("fail → pass", comparison.improved),
            ("rank changes", comparison.rank_changes),
        ):
            body.append(
                f"<h3>{_e(title)} ({len(flips)})</h3><ul>"
                + "".join(f"<li>{_e(f.describe())}</li>" for f in flips)
                + "</ul>"
            )
    if threshold_problems:
        body.append(
            "<h3>--fail-under</h3><ul>"
            + "".join(f'<li class="bad">{_e(p)}</li>' for p in threshold_problems)
            + "</ul>"
        )
    body.append(
        '<h2 id="failures">Failures</h2><p>Each failing QA item with what was expected, what was answered, the '
        "passages cited and whether each evidence quote was among the retrieved passages: "
        "<i>retrieval miss</i> = the evidence never reached the answerer; otherwise the answering step missed.</p>"
    )
    for suite, runs in run.qa_suites().items():
        for mode, results in runs.items():
            failures = [r for r in results if not r.passed]
            counts = Counter(r.diagnosis for r in failures)
            body.append(
                f"<h3>{_e(SUITE_TITLES[suite])} · {_e(mode)}: {len(failures)} of {len(results)} failed</h3>"
            )
            if counts:
                body.append(
                    _html_table(["diagnosis", "items"], [[k, str(v)] for k, v in counts.most_common()])
                )
            body += [_failure(r) for r in failures]
    if run.retrieval:
        body.append("<h3>Retrieval: queries whose gold section was not ranked first</h3>")
        body += [_retrieval_misses(name, s.items) for name, s in run.retrieval.items()]
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>policybot eval report</title>'
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_reports(
    out: Path,
    run: EvalRun,
    created: str,
    comparison: Comparison | None = None,
    threshold_problems: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    data = report_json(run, created, comparison, extra)
    if threshold_problems:
        data["fail_under"] = threshold_problems
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "report.md").write_text(
        f"# policybot eval report ({created})\n\n" + markdown(run, comparison, threshold_problems),
        encoding="utf-8",
    )
    (out / "report.html").write_text(
        render_html(run, created, comparison, threshold_problems), encoding="utf-8"
    )
    return out
