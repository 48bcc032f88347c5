"""Comparing a run with the committed baseline (evals/baseline.json): flipped items, metric deltas,
regressions beyond a tolerance and --fail-under thresholds."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.qa_eval import LOWER_IS_BETTER

RETRIEVAL_PASS_RANK = 5  # a retrieval item "passes" when the gold section is in the top 5

# Configurations that are reference points, not what users get: dense-only retrieval and the LangChain-tutorial
# baseline. Their rankings rest on e5 similarities alone, whose near-ties can move a place on another CPU or build
# of the embedding engine (measured: evals/bench/embedding_noise.py), so their gate is counted in items: a metric
# may move by at most this many items' worth and this many items may flip pass -> fail. The shipped configuration
# (hybrid retrieval, extractive answers) and BM25 keep the strict --tolerance.
REFERENCE_CONFIGS = frozenset({("retrieval", "dense"), ("retrieval", "baseline")})
REFERENCE_ITEM_TOLERANCE = 3


@dataclass
class Flip:
    suite: str
    config: str
    id: str
    before: Any
    after: Any

    def describe(self) -> str:
        if self.suite == "retrieval":
            fmt = lambda r: "miss" if r is None else f"rank {r}"  # noqa: E731
            return f"{self.suite}/{self.config} {self.id}: {fmt(self.before)} → {fmt(self.after)}"
        fmt = lambda p: "pass" if p else "fail"  # noqa: E731
        return f"{self.suite}/{self.config} {self.id}: {fmt(self.before)} → {fmt(self.after)}"


@dataclass
class Comparison:
    baseline: str
    tolerance: float
    reference_items: int = REFERENCE_ITEM_TOLERANCE
    deltas: list[dict[str, Any]] = field(default_factory=list)  # suite, config, metric, before, after, delta
    regressed: list[Flip] = field(default_factory=list)  # pass → fail (retrieval: hit@5 → miss)
    improved: list[Flip] = field(default_factory=list)  # fail → pass
    rank_changes: list[Flip] = field(default_factory=list)  # retrieval ranks that moved within/out of top k
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing_configs: list[str] = field(default_factory=list)
    new_configs: list[str] = field(
        default_factory=list
    )  # suite/config not in the baseline: reported, not compared
    problems: list[str] = field(default_factory=list)  # the reasons to fail

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        flips = lambda fs: [vars(f) for f in fs]  # noqa: E731
        return {
            "baseline": self.baseline,
            "tolerance": self.tolerance,
            "reference_item_tolerance": {
                "configurations": sorted(f"{s}/{c}" for s, c in REFERENCE_CONFIGS),
                "items": self.reference_items,
            },
            "ok": self.ok,
            "problems": self.problems,
            "deltas": self.deltas,
            "pass_to_fail": flips(self.regressed),
            "fail_to_pass": flips(self.improved),
            "rank_changes": flips(self.rank_changes),
            "added_items": self.added,
            "removed_items": self.removed,
            "missing_configurations": self.missing_configs,
            "new_configurations": self.new_configs,
        }

    def render(self) -> str:
        reference = ", ".join(sorted(f"{s}/{c}" for s, c in REFERENCE_CONFIGS))
        lines = [
            f"## Comparison with {self.baseline} (tolerance {self.tolerance:g}; reference configurations "
            f"{reference}: {self.reference_items} items)",
            "",
        ]
        changed = [d for d in self.deltas if d["delta"]]
        if changed:
            lines += ["| suite | configuration | metric | baseline | now | Δ |", "|---|---|---|---|---|---|"]
        for d in changed:
            mark = " ⚠" if d.get("regression") else ""
            lines.append(
                f"| {d['suite']} | {d['config']} | {d['metric']} | {d['before']:.3f} | {d['after']:.3f} | "
                f"{d['delta']:+.3f}{mark} |"
            )
        if len(changed) < len(self.deltas):
            lines.append(
                f"({len(self.deltas) - len(changed)} {'other ' if changed else ''}metric(s) unchanged)"
            )
        lines += ["", f"pass → fail ({len(self.regressed)}):"]
        lines += [f"- {f.describe()}" for f in self.regressed] or ["- none"]
        lines += ["", f"fail → pass ({len(self.improved)}):"]
        lines += [f"- {f.describe()}" for f in self.improved] or ["- none"]
        if self.rank_changes:
            lines += ["", f"retrieval rank changes ({len(self.rank_changes)}):"]
            lines += [f"- {f.describe()}" for f in self.rank_changes]
        if self.added or self.removed:
            lines += [
                "",
                f"items not in the baseline: {len(self.added)}; baseline items not run: {len(self.removed)}",
            ]
        if self.missing_configs:
            lines += ["", "baseline configurations not run: " + ", ".join(self.missing_configs)]
        if self.new_configs:
            lines += ["", "new (not in the baseline, not compared): " + ", ".join(self.new_configs)]
        lines += ["", "RESULT: " + ("no regression" if self.ok else "REGRESSION")]
        lines += [f"- {p}" for p in self.problems]
        return "\n".join(lines)


def load_baseline(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "suites" not in data:
        raise ValueError(f"{path}: not an eval baseline (no 'suites')")
    return data


def write_baseline(path: Path, snap: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snap, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def _passes(suite: str, outcome: Any) -> bool:
    if suite == "retrieval":
        return outcome is not None and outcome <= RETRIEVAL_PASS_RANK
    return bool(outcome)


def tolerances(
    suite: str, config: str, items: int, tolerance: float, reference_items: int
) -> tuple[float, int]:
    """(allowed drop of a headline metric, allowed pass → fail flips) for one suite/configuration of `items`
    items. Shipped configurations: `tolerance` and floor(tolerance × items). Reference configurations: at least
    `reference_items` items' worth of either (a metric that is a share of items, or MRR, moves by at most 1/items
    when one item moves)."""
    allowed_flips = math.floor(tolerance * items + 1e-9)
    if (suite, config) not in REFERENCE_CONFIGS or not items:
        return tolerance, allowed_flips
    return max(tolerance, reference_items / items + 1e-9), max(allowed_flips, reference_items)


def compare(
    current: dict[str, Any],
    baseline: dict[str, Any],
    tolerance: float = 0.01,
    name: str = "",
    reference_items: int = REFERENCE_ITEM_TOLERANCE,
) -> Comparison:
    result = Comparison(baseline=name, tolerance=tolerance, reference_items=reference_items)
    known = baseline.get("suites", {})
    result.new_configs = [
        f"{suite}/{config}"
        for suite, configs in current.get("suites", {}).items()
        for config in configs
        if config not in known.get(suite, {})
    ]
    for suite, configs in baseline.get("suites", {}).items():
        for config, before in configs.items():
            now = current.get("suites", {}).get(suite, {}).get(config)
            if now is None:
                result.missing_configs.append(f"{suite}/{config}")
                continue
            n_items = len(now.get("items", {})) or int(now.get("metrics", {}).get("n", 0) or 0)
            metric_tolerance, allowed = tolerances(suite, config, n_items, tolerance, reference_items)
            for metric, old in before.get("metrics", {}).items():
                new = now.get("metrics", {}).get(metric)
                if metric == "n" or not isinstance(old, int | float) or not isinstance(new, int | float):
                    continue
                delta = new - old
                worse = delta > metric_tolerance if metric in LOWER_IS_BETTER else -delta > metric_tolerance
                result.deltas.append(
                    {
                        "suite": suite,
                        "config": config,
                        "metric": metric,
                        "before": old,
                        "after": new,
                        "delta": round(delta, 6),
                        "regression": worse,
                    }
                )
                if worse:
                    result.problems.append(
                        f"{suite}/{config} {metric} {old:.3f} → {new:.3f} ({delta:+.3f}, tolerance "
                        f"{metric_tolerance:.3g})"
                    )
            old_items, new_items = before.get("items", {}), now.get("items", {})
            result.added += [f"{suite}/{config}/{i}" for i in new_items if i not in old_items]
            result.removed += [f"{suite}/{config}/{i}" for i in old_items if i not in new_items]
            regressed = 0
            for item_id, old in old_items.items():
                if item_id not in new_items:
                    continue
                new = new_items[item_id]
                if new == old:
                    continue
                flip = Flip(suite, config, item_id, old, new)
                if _passes(suite, old) and not _passes(suite, new):
                    result.regressed.append(flip)
                    regressed += 1
                elif not _passes(suite, old) and _passes(suite, new):
                    result.improved.append(flip)
                else:
                    result.rank_changes.append(flip)
            if regressed > allowed:
                result.problems.append(
                    f"{suite}/{config}: {regressed} item(s) went from pass to fail (tolerance {allowed})"
                )
    return result


def parse_threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--fail-under expects METRIC=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError as exc:
        raise ValueError(f"--fail-under {text!r}: {value!r} is not a number") from exc


def check_thresholds(
    metrics: dict[str, dict[str, dict[str, Any]]], thresholds: list[tuple[str, float]]
) -> list[str]:
    """`metric=value` applies to every configuration that reports the metric; `config.metric` and
    `suite.config.metric` narrow it. Lower-is-better metrics (forbidden_rate) fail above the value."""
    problems: list[str] = []
    for name, floor in thresholds:
        parts = name.split(".")
        metric = parts[-1]
        config = parts[-2] if len(parts) >= 2 else None
        suite = parts[-3] if len(parts) >= 3 else None
        matched = False
        for s, configs in metrics.items():
            if suite and s != suite:
                continue
            for c, values in configs.items():
                if (config and c != config) or metric not in values:
                    continue
                matched = True
                value = values[metric]
                bad = value > floor if metric in LOWER_IS_BETTER else value < floor
                if bad:
                    relation = "above" if metric in LOWER_IS_BETTER else "below"
                    problems.append(f"{s}/{c} {metric} = {value:.3f} is {relation} {floor:g}")
        if not matched:
            problems.append(f"--fail-under {name}: no configuration reports this metric")
    return problems
