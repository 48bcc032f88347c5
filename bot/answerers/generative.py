"""Generative answers through any LangChain chat model: an OpenAI-compatible endpoint (vLLM, Ollama,
DeepSeek, Qwen, OpenAI…) via langchain-openai, or a packaged GGUF model through llama.cpp."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from bot.answer import Turn, Usage
from bot.config import Settings
from bot.prompts import LEAD_PROMPT, REWRITE_PROMPT, with_hints
from retrieval.tokens import count_tokens


class GenerativeAnswerer:
    """Writes the lead of an answer: one or two sentences over the evidence the extractive answerer chose
    (`bot.prompts.LEAD_PROMPT`), streamed. The same prompt for every chat model, local or remote."""

    def __init__(
        self,
        name: str,
        model: BaseChatModel,
        evidence_budget: int = 400,
        max_tokens: int = 120,
        *,
        rewrites: bool = True,
    ) -> None:
        self.name = name
        self.model = model
        self.evidence_budget = evidence_budget
        self.max_tokens = max_tokens
        self.rewrites = rewrites

    def messages(self, question: str, evidence: str, hints: Sequence[str] = ()) -> list[BaseMessage]:
        return LEAD_PROMPT.format_messages(evidence=evidence, question=with_hints(question, hints))

    def lead(self, question: str, evidence: str, hints: Sequence[str] = ()) -> Iterator[str]:
        """The model's text as it streams; the consumer may stop reading at any point. With `hints` (what the
        check found wrong with a first lead) the model is asked again."""
        for chunk in self.model.stream(self.messages(question, evidence, hints), max_tokens=self.max_tokens):
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content

    def usage(self, question: str, evidence: str, text: str, hints: Sequence[str] = ()) -> Usage:
        prompt = sum(count_tokens(str(m.content)) for m in self.messages(question, evidence, hints))
        return Usage(prompt_tokens=prompt, completion_tokens=count_tokens(text))

    def rewrite(self, question: str, history: Sequence[Turn]) -> str | None:
        if not self.rewrites:
            return None
        transcript = "\n".join(f"用户：{t.question}\n助手：{t.answer[:300]}" for t in history[-3:])
        try:
            reply = self.model.invoke(REWRITE_PROMPT.format_messages(history=transcript, question=question))
        except Exception:
            return None  # the deterministic rewrite stands
        text = str(reply.content).strip()
        return text if 0 < len(text) <= 300 else None


class LocalModelUnavailable(RuntimeError):
    """llama-cpp-python or the GGUF file is missing (the chain then falls back to extractive with a notice)."""


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python (both installed by `make local-model`).

    The model is loaded on first use, not at start-up. One `Llama` handle is not safe to use from two threads
    (it holds one KV cache), so every call, streaming included, holds a lock for its whole generation; requests
    queue instead of corrupting each other. Keeping the same handle also lets llama.cpp reuse the cached prefix
    (the fixed system prompt) between questions."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 400
    temperature: float = 0.0

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "n_threads": self.n_threads}

    def _client(self) -> Any:
        """The loaded model; call with the lock held."""
        if self._llama is None:
            # llama.cpp's OpenMP workers spin while waiting; on a shared 2-core machine a spinning thread starves
            # its partner and decoding slows ~20× (measured: 32 tokens in 123 s instead of 6 s). Passive waiting
            # costs nothing when the cores are free. Read by libgomp when llama_cpp is first imported.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LocalModelUnavailable(
                    "local mode needs llama-cpp-python, which is not installed: run `make local-model`"
                ) from exc
            if not Path(self.model_path).is_file():
                raise LocalModelUnavailable(
                    f"local model file not found: {self.model_path} (run `make local-model`, or set "
                    "POLICYBOT_LOCAL_MODEL_PATH)"
                )
            self._llama = Llama(
                model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
            )
        return self._llama

    def load(self) -> None:
        """Load the model now (warm-up) instead of on the first question."""
        with self._lock:
            self._client()

    @staticmethod
    def _convert(messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            result = self._client().create_chat_completion(
                messages=self._convert(messages),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                temperature=self.temperature,
                stop=stop,
            )
        text = result["choices"][0]["message"]["content"] or ""
        usage = result.get("usage") or {}
        message = AIMessage(content=text)
        if usage:
            message.usage_metadata = {
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            }
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:  # held until the generation ends or the consumer closes the stream
            for part in self._client().create_chat_completion(
                messages=self._convert(messages),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                temperature=self.temperature,
                stop=stop,
                stream=True,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk


def openai_chat_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key.get_secret_value() or "not-needed",  # type: ignore[arg-type]
        timeout=settings.llm_timeout,
        max_retries=0,  # the extractive fallback is faster than a retry
        temperature=0.0,
    )


def generators_from_settings(settings: Settings) -> dict[str, Any]:
    """The generative modes that are configured: `openai` when selected or a base URL/key is given
    explicitly, `local` when its model file exists."""
    generators: dict[str, Any] = {}
    explicit = settings.model_fields_set & {"llm_base_url", "llm_api_key", "llm_model"}
    if settings.answer_mode == "openai" or explicit:
        generators["openai"] = GenerativeAnswerer(
            "openai", openai_chat_model(settings), settings.context_token_budget, settings.lead_max_tokens
        )
    model_path = settings.resolved(settings.local_model_path)
    if settings.answer_mode == "local" or model_path.is_file():
        generators["local"] = GenerativeAnswerer(
            "local",
            LlamaCppChatModel(model_path=str(model_path), n_threads=settings.local_threads),
            settings.local_context_tokens,
            settings.lead_max_tokens,
            rewrites=False,  # a second model call per follow-up would double the wait; the rule-based one stands
        )
    return generators
