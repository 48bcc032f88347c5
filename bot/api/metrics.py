"""Prometheus metrics (one registry per app, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.answer import Answer


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "policybot_http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "policybot_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.answers = Counter(
            "policybot_answers_total", "Answers produced, by answer mode", ["mode"], registry=self.registry
        )
        self.refusals = Counter(
            "policybot_refusals_total", "Answers that refused (no grounded answer)", registry=self.registry
        )
        self.errors = Counter(
            "policybot_errors_total", "Server-side errors by kind", ["kind"], registry=self.registry
        )
        self.answer_cache = Counter(
            "policybot_answer_cache_total",
            "Answer cache lookups by result (hit, miss); questions that may not use the cache are not counted",
            ["result"],
            registry=self.registry,
        )

    def record_answer(self, answer: Answer) -> None:
        self.answers.labels(mode=answer.mode).inc()
        if answer.refused:
            self.refusals.inc()
        cached = answer.timings_ms.get("cache")
        if cached is not None:
            self.answer_cache.labels(result="hit" if cached else "miss").inc()
