"""One settings object, built by a factory and passed in (never an import-time global).

Every knob of lse is read from the environment (and a `.env` file in the working
directory). Our own names carry the `LSE_` prefix; the SDKs' standard names
(`LANGSMITH_ENDPOINT`, `LANGSMITH_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_API_KEY`) are
read as they are so lse works wherever the SDKs already do. Defaults work offline on
one machine: all state lives under `LSE_DATA_DIR`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LSE_", env_file=".env", extra="ignore", populate_by_name=True)

    # --- state -------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path.home() / ".lse",
        description="Where every file lse keeps lives: archive, SQLite database, objects.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///$LSE_DATA_DIR/lse.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    object_store_url: str | None = Field(
        default=None,
        description="file:///path or s3://bucket/prefix; default $LSE_DATA_DIR/objects",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint override for S3-compatible stores (MinIO, moto)."
    )

    # --- LangSmith ---------------------------------------------------------------------
    langsmith_endpoint: str = Field(
        default="https://api.smith.langchain.com",
        validation_alias=_alias("LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT"),
        description="LangSmith API base URL (cloud, self-hosted or compatible).",
    )
    langsmith_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=_alias("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"),
        description="LangSmith API key.",
    )
    langsmith_run_api: Literal["auto", "v2", "v1"] = Field(
        default="auto",
        description="Runs query API: auto (v2 where the server has it, else v1), v2 or v1.",
    )
    request_delay_ms: int = Field(default=1000, ge=0, description="Minimum milliseconds between LangSmith requests.")
    request_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(default=6, ge=0, description="Retries for 429/5xx/timeouts before giving up.")
    retry_max_wait_s: float = Field(default=60.0, gt=0, description="Cap on one backoff or Retry-After wait.")
    retry_base_wait_s: float = Field(
        default=1.0, ge=0, description="First backoff wait; doubles per retry (plus jitter)."
    )

    # --- database ----------------------------------------------------------------------
    load_writers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Connections a PostgreSQL load writes on at once (SQLite always uses one).",
    )

    # --- OpenAI ------------------------------------------------------------------------
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=_alias("OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint; default the SDK's.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("OPENAI_API_KEY"), description="OpenAI API key."
    )

    # --- evaluations -------------------------------------------------------------------
    celery_broker_url: str | None = Field(
        default=None,
        description="Redis URL; set to run evaluations on Celery workers, unset for in-process.",
    )
    celery_queue: str = Field(
        default="evaluations", min_length=1, description="Celery queue that evaluation jobs go to."
    )
    eval_fast_api_concurrency: int = Field(default=10, ge=1, description="Concurrent Responses calls in a fast run.")
    eval_fast_failure_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Share of failed items above which a run fails."
    )
    eval_fast_max_unique_rows: int = Field(
        default=10, ge=1, description="Datasets with at most this many unique questions are fast-eligible."
    )
    eval_fast_call_timeout_s: float = Field(
        default=120.0, gt=0, description="Timeout of one provider call in a fast run."
    )
    eval_fast_max_attempts: int = Field(default=6, ge=1, description="Attempts per provider call for transient errors.")
    eval_fast_max_rate_limited_attempts: int = Field(
        default=30, ge=1, description="Attempts per provider call refused with 429 (each after the provider's wait)."
    )
    eval_heartbeat_s: float = Field(default=5.0, gt=0, description="How often a running evaluation beats.")
    eval_stale_after_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds without a heartbeat after which a processing run is taken over "
        "(at least three heartbeats).",
    )
    eval_embedding_model: str = Field(default="text-embedding-3-small", description="Embedding model used for scoring.")
    eval_batch_poll_s: float = Field(
        default=60.0, gt=0, description="Seconds between polls of a young provider batch (older ones are polled less)."
    )
    eval_batch_max_rounds: int = Field(
        default=3, ge=1, description="Batches per item at most: expired, cancelled or retryable requests go again."
    )
    eval_batch_max_requests: int = Field(
        default=50_000, ge=1, le=50_000, description="Requests per provider batch file (OpenAI allows 50,000)."
    )
    eval_batch_max_bytes: int = Field(
        default=190_000_000, ge=1, le=200_000_000, description="Bytes per provider batch file (OpenAI allows 200 MB)."
    )
    eval_batch_max_enqueued_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Estimated input tokens per batch file (your enqueued-token limit); unset: no cap.",
    )
    eval_batch_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="How long one process owns a provider batch while it submits, polls or collects it.",
    )
    eval_batch_deadline_grace_s: float = Field(
        default=6 * 3600.0,
        ge=0,
        description="A batch still unfinished this long after its expires_at is cancelled and treated as expired.",
    )

    # --- web viewer --------------------------------------------------------------------
    web_archive_access: str = Field(
        default="",
        description="Which archived LangSmith projects each evaluation project's key may see in the "
        "web viewer: 'org/project=ls-project[,ls-project...]' entries separated by ';' ('*' for all).",
    )
    web_session_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs viewer session cookies; default a random one kept in $LSE_DATA_DIR/state/.",
    )

    # --- derived -----------------------------------------------------------------------
    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'lse.db'}"

    @property
    def effective_object_store_url(self) -> str:
        return self.object_store_url or (self.data_dir / "objects").resolve().as_uri()


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides winning.

    A bad value becomes one ConfigError naming the variable, not a pydantic dump.
    """
    from pydantic import ValidationError

    from lse.errors import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else "?"
        field = Settings.model_fields.get(name)
        alias = field.validation_alias if field else None
        if isinstance(alias, AliasChoices):
            env = str(alias.choices[0])
        else:
            env = alias if isinstance(alias, str) else f"LSE_{name.upper()}"
        raise ConfigError(f"{env}: {first['msg']} (got {first.get('input')!r})") from exc
