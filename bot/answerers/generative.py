"""Generative answers through any LangChain chat model: an OpenAI-compatible endpoint (vLLM, Ollama,
DeepSeek, Qwen, OpenAI…) via langchain-openai, or a packaged GGUF model through llama.cpp."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from bot.answer import Usage
from bot.config import Settings
from bot.prompts import ANSWER_PROMPT, REWRITE_PROMPT, pack_context
from bot.sessions import Turn
from retrieval.retriever import Passage
from retrieval.tokens import count_tokens


class GenerativeAnswerer:
    def __init__(self, name: str, model: BaseChatModel, context_budget: int = 1500) -> None:
        self.name = name
        self.model = model
        self.context_budget = context_budget

    def _messages(self, question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
        context, _ = pack_context(passages, self.context_budget)
        return ANSWER_PROMPT.format_messages(context=context, question=question)

    def generate(self, question: str, passages: Sequence[Passage]) -> tuple[str, Usage]:
        messages = self._messages(question, passages)
        reply = self.model.invoke(messages)
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        prompt_tokens = sum(count_tokens(str(m.content)) for m in messages)
        return text, Usage(prompt_tokens=prompt_tokens, completion_tokens=count_tokens(text))

    def stream(self, question: str, passages: Sequence[Passage]) -> Iterator[str]:
        for chunk in self.model.stream(self._messages(question, passages)):
            if isinstance(chunk.content, str) and chunk.content:
                yield chunk.content

    def rewrite(self, question: str, history: Sequence[Turn]) -> str | None:
        transcript = "\n".join(f"用户：{t.question}\n助手：{t.answer[:300]}" for t in history[-3:])
        try:
            reply = self.model.invoke(REWRITE_PROMPT.format_messages(history=transcript, question=question))
        except Exception:
            return None  # the deterministic rewrite stands
        text = str(reply.content).strip()
        return text if 0 < len(text) <= 300 else None


class LlamaCppChatModel(BaseChatModel):
    """A GGUF model run in-process by llama-cpp-python (installed by `make local-model`)."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 400
    _llama: Any = None

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _client(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise RuntimeError("local mode needs llama-cpp-python: run `make local-model`") from exc
            self._llama = Llama(
                model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False
            )
        return self._llama

    @staticmethod
    def _convert(messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"system": "system", "human": "user", "ai": "assistant"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        result = self._client().create_chat_completion(
            messages=self._convert(messages), max_tokens=self.max_tokens, temperature=0.0, stop=stop
        )
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for part in self._client().create_chat_completion(
            messages=self._convert(messages),
            max_tokens=self.max_tokens,
            temperature=0.0,
            stop=stop,
            stream=True,
        ):
            delta = part["choices"][0].get("delta", {}).get("content")
            if delta:
                yield ChatGenerationChunk(message=AIMessageChunk(content=delta))


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
            "openai", openai_chat_model(settings), settings.context_token_budget
        )
    model_path = settings.resolved(settings.local_model_path)
    if settings.answer_mode == "local" or model_path.is_file():
        generators["local"] = GenerativeAnswerer(
            "local",
            LlamaCppChatModel(model_path=str(model_path), n_threads=settings.local_threads),
            settings.local_context_tokens,
        )
    return generators
