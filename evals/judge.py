"""Optional LLM-judge faithfulness (RAGAS-style): the share of an answer's statements that the cited passages
support, as judged by an OpenAI-compatible chat model. Only used when such an endpoint is configured; it is
reported beside the deterministic metrics and never replaces them (nor gates a comparison)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from evals.qa_eval import QAItemResult

JUDGE_SYSTEM = (
    "你是严格的事实核查员。给你若干编号的政策条文和若干编号的陈述。"
    "对每条陈述判断：它的内容是否完全能由这些条文直接支持（不能依靠条文以外的知识或推测）。"
    '只输出JSON，例如 {"verdicts": [1, 0]}，按陈述顺序，支持为1，不支持为0。'
)
_MARKER = re.compile(r"\[\d+\]")
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")


def statements_of(answer: str) -> list[str]:
    """The answer's statements: sentences without [n] markers; the source line ("依据《…》：") is skipped."""
    lines = answer.strip().splitlines()
    if lines and lines[0].rstrip().endswith(("：", ":")):
        lines = lines[1:]
    text = _MARKER.sub("", "\n".join(lines))
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip(" 。！？；-•")) >= 4]


def parse_verdicts(reply: str, expected: int) -> list[bool] | None:
    """0/1 (or true/false, or {"supported": ...}) per statement from the judge's reply; None if unusable."""
    match = re.search(r"\{.*\}|\[.*\]", reply, re.S)
    if not match:
        return None
    try:
        data: Any = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        data = data.get("verdicts")
    if not isinstance(data, list) or len(data) != expected:
        return None
    verdicts = []
    for v in data:
        if isinstance(v, dict):
            v = v.get("supported", v.get("verdict"))
        if isinstance(v, bool) or v in (0, 1):
            verdicts.append(bool(v))
        elif isinstance(v, str) and v.strip().lower() in ("yes", "no", "1", "0", "true", "false"):
            verdicts.append(v.strip().lower() in ("yes", "1", "true"))
        else:
            return None
    return verdicts


class LLMJudge:
    def __init__(self, model: Any, passage_text: Callable[[str, int], str] | None = None) -> None:
        self.model = model
        self.passage_text = passage_text
        self.errors = 0

    def __call__(self, result: QAItemResult) -> tuple[float | None, list[dict[str, Any]]]:
        statements = statements_of(result.answer)
        if not statements or not result.citations:
            return (
                (None, [])
                if not statements
                else (0.0, [{"statement": s, "supported": False} for s in statements])
            )
        passages = []
        for c in result.citations:
            located = ""
            if self.passage_text is not None and c.get("source", "text") == "text":
                located = self.passage_text(c["doc_id"], c["start"])
            text = located or c["quote"]
            passages.append(f"[{c['n']}] {text}")
        numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(statements, 1))
        messages = [
            SystemMessage(content=JUDGE_SYSTEM),
            HumanMessage(content="政策条文：\n" + "\n\n".join(passages) + "\n\n陈述：\n" + numbered),
        ]
        try:
            reply = self.model.invoke(messages)
        except Exception:
            self.errors += 1
            return None, []
        verdicts = parse_verdicts(str(reply.content), len(statements))
        if verdicts is None:
            self.errors += 1
            return None, []
        rows = [{"statement": s, "supported": v} for s, v in zip(statements, verdicts, strict=True)]
        return sum(verdicts) / len(verdicts), rows


def judge_for(service: Any) -> LLMJudge | None:
    """A judge over the configured OpenAI-compatible endpoint, or None when none is configured."""
    generator = getattr(service, "generators", {}).get("openai")
    model = getattr(generator, "model", None)
    if model is None:
        return None
    from evals.qa_eval import _passage_text

    def passage(doc_id: str, start: int) -> str:
        return _passage_text(service.library.live.current(), doc_id, start)

    return LLMJudge(model, passage)
