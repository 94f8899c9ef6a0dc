"""Where evaluations are exported: one resolution function for every caller.

A target is configured by the deployment's settings (`LANGFUSE_PUBLIC_KEY`,
`LANGFUSE_SECRET_KEY`, `LANGFUSE_HOST`; `LANGSMITH_ENDPOINT`, `LANGSMITH_API_KEY`) and
enabled by `LSE_TRACING_TARGETS`. A project's own stored Langfuse credentials
(`POST /credentials/` with a `langfuse` entry), where it has them, take precedence over
the deployment's (see `resolve_targets`). Nothing is exported
to a target that is not configured.

A destination names one remote account (host and key fingerprint) so the outbox can
tell "exported there" from "exported somewhere else".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from lse.errors import ConfigError
from lse.settings import Settings
from lse.tenancy.credentials import provider_credentials

TARGET_NAMES = ("langfuse", "langsmith")


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class LangfuseTarget:
    host: str
    public_key: str
    secret_key: str
    name: str = "langfuse"

    @property
    def destination(self) -> str:
        return f"langfuse:{self.host.rstrip('/')}#{self.public_key}"


@dataclass(frozen=True)
class LangSmithTarget:
    endpoint: str
    api_key: str
    name: str = "langsmith"

    @property
    def destination(self) -> str:
        return f"langsmith:{self.endpoint.rstrip('/')}#{_fingerprint(self.api_key)}"


Target = LangfuseTarget | LangSmithTarget


@dataclass(frozen=True)
class Targets:
    langfuse: LangfuseTarget | None = None
    langsmith: LangSmithTarget | None = None

    def get(self, name: str) -> Target | None:
        if name not in TARGET_NAMES:
            raise ConfigError(f"unknown tracing target {name!r}; use one of: {', '.join(TARGET_NAMES)}")
        return self.langfuse if name == "langfuse" else self.langsmith

    def configured(self) -> list[Target]:
        return [t for t in (self.langfuse, self.langsmith) if t is not None]


def enabled_targets(settings: Settings) -> set[str]:
    """The targets `LSE_TRACING_TARGETS` enables (an unknown name is a configuration error)."""
    names = {n.strip().lower() for n in settings.tracing_targets.split(",") if n.strip()}
    unknown = names - set(TARGET_NAMES)
    if unknown:
        raise ConfigError(
            f"LSE_TRACING_TARGETS: unknown target(s) {', '.join(sorted(unknown))}; use {', '.join(TARGET_NAMES)}"
        )
    return names


def deployment_targets(settings: Settings, *, enabled: set[str] | None = None) -> Targets:
    """The deployment-wide targets from settings (no project credentials)."""
    names = enabled_targets(settings) if enabled is None else enabled
    langfuse = None
    if "langfuse" in names and settings.langfuse_public_key and settings.langfuse_secret_key:
        langfuse = LangfuseTarget(
            host=settings.langfuse_host.rstrip("/"),
            public_key=settings.langfuse_public_key,
            secret_key=settings.langfuse_secret_key.get_secret_value(),
        )
    langsmith = None
    if "langsmith" in names and settings.langsmith_api_key:
        langsmith = LangSmithTarget(
            endpoint=settings.langsmith_endpoint.rstrip("/"), api_key=settings.langsmith_api_key.get_secret_value()
        )
    return Targets(langfuse=langfuse, langsmith=langsmith)


def resolve_targets(
    settings: Settings, organization_id: int, project_id: int, *, only: str | None = None, explicit: bool = False
) -> Targets:
    """The targets one project's evaluations go to.

    `only` keeps one target; `explicit` (an on-demand export naming its target) ignores
    `LSE_TRACING_TARGETS`, which governs background exports only.
    """
    enabled = set(TARGET_NAMES) if explicit else enabled_targets(settings)
    if only is not None:
        if only not in TARGET_NAMES:
            raise ConfigError(f"unknown tracing target {only!r}; use one of: {', '.join(TARGET_NAMES)}")
        enabled &= {only}
    targets = deployment_targets(settings, enabled=enabled)
    if "langfuse" in enabled:
        # A project's own stored Langfuse keys win over the deployment's (LangSmith has no
        # per-project credential: the deployment's key is used for every project).
        own = provider_credentials(settings, organization_id, project_id, "langfuse")
        if own:
            host = own.get("host") or settings.langfuse_host
            langfuse = LangfuseTarget(host=host.rstrip("/"), public_key=own["public_key"], secret_key=own["secret_key"])
            targets = replace(targets, langfuse=langfuse)
    return targets
