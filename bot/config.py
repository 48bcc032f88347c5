"""All configuration in one place: environment variables (prefix POLICYBOT_, a few well-known names
without it) and an optional `.env` file. See the README's configuration table."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

AnswerMode = Literal["extractive", "openai", "local"]


def _alias(name: str, *plain: str) -> AliasChoices:
    return AliasChoices(f"POLICYBOT_{name}", *plain)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POLICYBOT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # documents and index
    data_dir: Path = Field(Path("data"), description="index, sessions, feedback and uploads")
    corpus_dir: Path = Field(Path("corpus"), description="policy documents shipped with the project")
    chunk_max_tokens: int = Field(480, ge=32, le=2000, description="chunk budget, cl100k_base tokens")
    chroma_host: str | None = Field(None, validation_alias=_alias("CHROMA_HOST", "CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=_alias("CHROMA_PORT", "CHROMA_PORT"))

    # shared state for several replicas (unset: SQLite files under the data dir, state in each process)
    database_url: str | None = Field(
        None, description="postgresql+psycopg://user:password@host/db: sessions, feedback, documents, index"
    )
    redis_url: str | None = Field(
        None, description="redis://host:6379/0: one rate limit and one answer cache across replicas"
    )
    index_poll_seconds: float = Field(
        2.0, gt=0, le=300, description="with a shared database: how often a replica checks for a new index"
    )

    # embeddings
    embedding_backend: Literal["e5", "openai"] = "e5"
    embedding_base_url: str = "http://127.0.0.1:11434/v1"
    embedding_model: str = "bge-m3"
    embedding_api_key: SecretStr = SecretStr("")
    embedding_threads: int = 2
    embedding_batch_size: int = Field(64, ge=1, le=2048, description="texts per embeddings request")
    embedding_max_retries: int = Field(4, ge=0, le=20, description="retries of a failed embeddings request")
    embedding_query_prefix: str = Field("", description="e5 served remotely: 'query: '")
    embedding_passage_prefix: str = Field("", description="e5 served remotely: 'passage: '")

    # retrieval
    top_k: int = Field(5, ge=1, le=50)
    dense_weight: float = 1.0
    bm25_weight: float = 2.0

    # answering
    answer_mode: AnswerMode = "extractive"
    llm_base_url: str = Field(
        "http://127.0.0.1:11434/v1", validation_alias=_alias("LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_model: str = "qwen2.5:7b-instruct"
    llm_api_key: SecretStr = Field(SecretStr(""), validation_alias=_alias("LLM_API_KEY", "OPENAI_API_KEY"))
    llm_timeout: float = Field(30.0, gt=0)
    llm_fallback: bool = Field(
        True, description="fall back to extractive when the LLM fails or is unverifiable"
    )
    context_token_budget: int = Field(
        1500, ge=50, description="openai mode: evidence sentences given to the model, cl100k tokens"
    )
    lead_max_tokens: int = Field(120, ge=16, le=1000, description="the model's lead sentences, tokens")
    lead_timeout: float = Field(
        20.0, gt=0, description="seconds the model may take for its lead; then the extract stands alone"
    )
    lead_revisions: int = Field(
        1,
        ge=0,
        le=3,
        description="times a lead that fails the check is sent back to the model with what was wrong (0 = never)",
    )
    local_model_path: Path = Field(Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"))
    local_threads: int = 2
    local_context_tokens: int = Field(
        400, ge=50, description="local mode: evidence sentences given to the model, cl100k tokens"
    )
    answer_cache_size: int = Field(
        1024, ge=0, description="answers kept in the in-memory LRU answer cache per worker; 0 = off"
    )

    # conversations
    session_max_turns: int = Field(10, ge=1)

    # HTTP API
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    api_keys: list[str] = Field(default_factory=list, description="empty = open (local use)")
    admin_key: SecretStr | None = None
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = 120
    max_upload_bytes: int = 10 * 1024 * 1024
    log_answers: bool = True
    log_retention_days: int = 90
    public_url: str | None = Field(
        None, description="the web page's public address; chat channels link sources to its citation view"
    )
    json_logs: bool = False

    # Telegram
    telegram_bot_token: SecretStr | None = Field(
        None, validation_alias=_alias("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_TOKEN")
    )
    telegram_base_url: str | None = Field(
        None, validation_alias=_alias("TELEGRAM_BASE_URL", "TELEGRAM_BASE_URL")
    )
    telegram_allowed_user_ids: list[int] = Field(default_factory=list)
    telegram_allowed_chat_ids: list[int] = Field(default_factory=list)
    telegram_admin_user_ids: list[int] = Field(default_factory=list)
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_rate_limit_per_minute: int = 20

    # WeCom (企业微信) self-built application: POST/GET /wecom/callback in `serve` when the corp id is set
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = Field(None, description="the callback's Token (signature)")
    wecom_aes_key: SecretStr | None = Field(None, description="the callback's 43-character EncodingAESKey")
    wecom_base_url: str = Field("https://qyapi.weixin.qq.com", description="WeCom server API")
    wecom_message_format: Literal["markdown", "text"] = "markdown"
    wecom_allowed_user_ids: list[str] = Field(default_factory=list, description="empty = every member")
    wecom_admin_user_ids: list[str] = Field(default_factory=list)
    wecom_rate_limit_per_minute: int = 20

    # DingTalk (钉钉) robot in Stream mode: `policybot dingtalk`
    dingtalk_client_id: str | None = Field(None, description="the app's Client ID (AppKey)")
    dingtalk_client_secret: SecretStr | None = None
    dingtalk_base_url: str = Field(
        "https://api.dingtalk.com", description="DingTalk OpenAPI (the Stream gateway's open-connection call)"
    )
    dingtalk_allowed_user_ids: list[str] = Field(default_factory=list, description="staff ids; empty = open")
    dingtalk_allowed_chat_ids: list[str] = Field(default_factory=list, description="conversation ids")
    dingtalk_admin_user_ids: list[str] = Field(default_factory=list)
    dingtalk_rate_limit_per_minute: int = 20

    def resolved(self, path: Path) -> Path:
        return path if path.is_absolute() else Path.cwd() / path

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
