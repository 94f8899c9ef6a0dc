"""Per-project provider credentials (bring your own key), encrypted at rest.

A project may store its own OpenAI key (its runs then bill it instead of the
deployment's) and its Langfuse keys (used by the trace exports). Each provider's fields
are one JSON object encrypted with Fernet under `LSE_SECRET_KEY`; the key never reaches
the database, a log line or a response in clear. `LSE_SECRET_KEY` may list several keys,
newest first: every key decrypts, the first encrypts, and `rotate_credentials` re-encrypts
every stored token with the first (the rotation procedure is in docs/security.md).

What clients see (`CredentialPublic`) carries masked values only — a few characters at
each end, enough to tell two keys apart. `provider_credentials(...)` is the one way other
parts read the clear values.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from lse.errors import ConfigError, ConflictError, NotFoundError, ValidationFailed
from lse.schema_types import Input, UtcDatetime
from lse.settings import Settings
from lse.store.engine import get_engine, retry_when_busy, unit_of_work
from lse.store.models.evaluation import EvaluationRun, ProviderCredential, utcnow
from lse.tenancy.keys import Tenant

# provider -> (required fields, optional fields); every field a string
# (lse uses openai for runs and langfuse for trace exports; the others are stored for
# Kaapi clients that send them)
PROVIDER_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "openai": (frozenset({"api_key"}), frozenset({"organization", "project"})),
    "langfuse": (frozenset({"public_key", "secret_key"}), frozenset({"host"})),
    "google": (frozenset({"api_key"}), frozenset()),
    "sarvamai": (frozenset({"api_key"}), frozenset()),
    "elevenlabs": (frozenset({"api_key"}), frozenset()),
}
SHOWN_IN_CLEAR = frozenset({"host"})  # not secret: shown as stored
MAX_FIELD_CHARS = 1024


class CredentialsCreate(Input):
    """Kaapi's create body: {"credential": {"openai": {"api_key": "sk-…"}, …}}."""

    is_active: bool = True
    credential: dict[str, dict[str, Any]] = Field(min_length=1)


class CredentialsUpdate(Input):
    """Kaapi's update body: one provider's fields (and optionally is_active)."""

    provider: str = Field(min_length=1, max_length=32)
    credential: dict[str, Any] = Field(min_length=1)
    is_active: bool | None = None


class CredentialPublic(BaseModel):
    id: int
    organization_id: int
    project_id: int
    provider: str
    is_active: bool
    credential: dict[str, str] = Field(description="Masked values: never the secret itself.")
    inserted_at: UtcDatetime
    updated_at: UtcDatetime


def _fernet(settings: Settings) -> MultiFernet:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    keys = [k.strip() for k in secret.split(",") if k.strip()]
    if not keys:
        raise ConfigError(
            "LSE_SECRET_KEY is not set: provider credentials are stored encrypted with it; "
            "generate one with `lse admin generate-secret-key`"
        )
    try:
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ConfigError(
            "LSE_SECRET_KEY must be Fernet keys (32 url-safe base64-encoded bytes each, comma-separated); "
            "generate one with `lse admin generate-secret-key`"
        ) from exc


def generate_secret_key() -> str:
    return Fernet.generate_key().decode("ascii")


def _fields(provider: str, values: dict[str, Any], *, partial: bool = False) -> dict[str, str]:
    """The provider's fields, checked: known provider, known fields, non-empty strings."""
    if provider not in PROVIDER_FIELDS:
        raise ValidationFailed(
            f"provider {provider!r} is not supported; use one of: {', '.join(sorted(PROVIDER_FIELDS))}",
            code="provider_unsupported",
        )
    required, optional = PROVIDER_FIELDS[provider]
    unknown = sorted(set(values) - required - optional)
    if unknown:
        raise ValidationFailed(
            f"credential.{provider}.{unknown[0]} is not a {provider} credential field; "
            f"use {', '.join(sorted(required | optional))}",
            code="invalid_credential",
        )
    missing = sorted(required - set(values)) if not partial else []
    if missing:
        raise ValidationFailed(f"credential.{provider}.{missing[0]} is required", code="invalid_credential")
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_FIELD_CHARS:
            raise ValidationFailed(
                f"credential.{provider}.{name} must be a non-empty string of at most {MAX_FIELD_CHARS} characters",
                code="invalid_credential",
            )
    return {k: v.strip() for k, v in values.items()}


def mask(name: str, value: str) -> str:
    if name in SHOWN_IN_CLEAR:
        return value
    if len(value) <= 12:
        return "****"
    return f"{value[:3]}…{value[-4:]}"


def _decrypt(settings: Settings, token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet(settings).decrypt(token.encode("ascii")))
    except InvalidToken as exc:
        raise ConfigError(
            "stored provider credentials cannot be decrypted with LSE_SECRET_KEY: the key that "
            "encrypted them is missing from it (see docs/security.md, key rotation)"
        ) from exc


def _encrypt(settings: Settings, fields: dict[str, str]) -> str:
    return _fernet(settings).encrypt(json.dumps(fields, sort_keys=True).encode("utf-8")).decode("ascii")


def _public(settings: Settings, row: ProviderCredential) -> CredentialPublic:
    fields = _decrypt(settings, row.secret)
    return CredentialPublic(
        id=row.id,
        organization_id=row.organization_id,
        project_id=row.project_id,
        provider=row.provider,
        is_active=row.is_active,
        credential={k: mask(k, v) for k, v in sorted(fields.items())},
        inserted_at=row.created_at,
        updated_at=row.updated_at,
    )


def _rows(session: Session, tenant: Tenant) -> list[ProviderCredential]:
    return list(
        session.scalars(
            select(ProviderCredential)
            .where(
                ProviderCredential.organization_id == tenant.organization_id,
                ProviderCredential.project_id == tenant.project_id,
            )
            .order_by(ProviderCredential.provider)
        )
    )


@retry_when_busy
def create_credentials(settings: Settings, tenant: Tenant, body: CredentialsCreate) -> list[CredentialPublic]:
    """Store each provider's fields; a provider the project already has is a 409 (PATCH it)."""
    checked = {provider: _fields(provider, values) for provider, values in body.credential.items()}
    with unit_of_work(get_engine(settings), write=True) as session:
        existing = {r.provider for r in _rows(session, tenant)}
        clash = sorted(existing & set(checked))
        if clash:
            raise ConflictError(
                f"credentials for {clash[0]!r} already exist in this project; update them with PATCH /credentials",
                code="credentials_exist",
            )
        rows = [
            ProviderCredential(
                organization_id=tenant.organization_id,
                project_id=tenant.project_id,
                provider=provider,
                is_active=body.is_active,
                secret=_encrypt(settings, fields),
            )
            for provider, fields in checked.items()
        ]
        session.add_all(rows)
        session.flush()
        return [_public(settings, r) for r in rows]


@retry_when_busy
def update_credentials(settings: Settings, tenant: Tenant, body: CredentialsUpdate) -> list[CredentialPublic]:
    """Replace the given fields of one provider (others kept); 404 if the project has none."""
    with unit_of_work(get_engine(settings), write=True) as session:
        row = _find(session, tenant, body.provider)
        fields = {**_decrypt(settings, row.secret), **_fields(body.provider, body.credential, partial=True)}
        row.secret = _encrypt(settings, fields)
        if body.is_active is not None:
            row.is_active = body.is_active
        row.updated_at = utcnow()
        session.flush()
        return [_public(settings, r) for r in _rows(session, tenant)]


def _find(session: Session, tenant: Tenant, provider: str) -> ProviderCredential:
    _fields_known(provider)
    row = session.scalar(
        select(ProviderCredential).where(
            ProviderCredential.organization_id == tenant.organization_id,
            ProviderCredential.project_id == tenant.project_id,
            ProviderCredential.provider == provider,
        )
    )
    if row is None:
        raise NotFoundError(f"no {provider} credentials in this project", code="credentials_not_found")
    return row


def _fields_known(provider: str) -> None:
    if provider not in PROVIDER_FIELDS:
        raise ValidationFailed(
            f"provider {provider!r} is not supported; use one of: {', '.join(sorted(PROVIDER_FIELDS))}",
            code="provider_unsupported",
        )


def list_credentials(settings: Settings, tenant: Tenant) -> list[CredentialPublic]:
    """Every provider's credentials, masked; 404 if the project has none (as Kaapi)."""
    with unit_of_work(get_engine(settings)) as session:
        rows = _rows(session, tenant)
        if not rows:
            raise NotFoundError("no credentials in this project", code="credentials_not_found")
        return [_public(settings, r) for r in rows]


def get_credential(settings: Settings, tenant: Tenant, provider: str) -> CredentialPublic:
    with unit_of_work(get_engine(settings)) as session:
        return _public(settings, _find(session, tenant, provider))


@retry_when_busy
def delete_credential(settings: Settings, tenant: Tenant, provider: str) -> None:
    with unit_of_work(get_engine(settings), write=True) as session:
        session.delete(_find(session, tenant, provider))


@retry_when_busy
def delete_all_credentials(settings: Settings, tenant: Tenant) -> int:
    with unit_of_work(get_engine(settings), write=True) as session:
        gone = session.execute(
            delete(ProviderCredential).where(
                ProviderCredential.organization_id == tenant.organization_id,
                ProviderCredential.project_id == tenant.project_id,
            )
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]  # DML gives a CursorResult


def provider_credentials(
    session_or_settings: Session | Settings,
    organization_id: int,
    project_id: int,
    provider: str,
    *,
    settings: Settings | None = None,
) -> dict[str, str] | None:
    """The project's active credential fields for `provider`, decrypted; None if it has none.

    Takes an open session (with `settings=` for the key) or settings alone (a short read
    of its own). The values are secrets: keep them out of logs and responses.
    """
    if isinstance(session_or_settings, Settings):
        settings = session_or_settings
        with unit_of_work(get_engine(settings)) as session:
            return provider_credentials(session, organization_id, project_id, provider, settings=settings)
    if settings is None:
        raise TypeError("provider_credentials(session, ...) needs settings= for the decryption key")
    token = session_or_settings.scalar(
        select(ProviderCredential.secret).where(
            ProviderCredential.organization_id == organization_id,
            ProviderCredential.project_id == project_id,
            ProviderCredential.provider == provider,
            ProviderCredential.is_active.is_(True),
        )
    )
    return _decrypt(settings, token) if token else None


def settings_for_run(settings: Settings, run_id: int) -> Settings:
    """`settings` with the run's project's own OpenAI key when it stored one, else unchanged
    (the deployment's key). Called where a run's OpenAI client is built."""
    with unit_of_work(get_engine(settings)) as session:
        row = session.execute(
            select(EvaluationRun.organization_id, EvaluationRun.project_id).where(EvaluationRun.id == run_id)
        ).first()
        own = provider_credentials(session, row[0], row[1], "openai", settings=settings) if row else None
    if not own:
        return settings
    return settings.model_copy(update={"openai_api_key": SecretStr(own["api_key"])})


@retry_when_busy
def rotate_credentials(settings: Settings, engine: Engine | None = None) -> int:
    """Re-encrypt every stored credential with the first key of LSE_SECRET_KEY; the count."""
    fernet = _fernet(settings)
    with unit_of_work(engine or get_engine(settings), write=True) as session:
        rows = list(session.scalars(select(ProviderCredential)))
        for row in rows:
            try:
                row.secret = fernet.rotate(row.secret.encode("ascii")).decode("ascii")
            except InvalidToken as exc:
                raise ConfigError(
                    f"credential {row.id} ({row.provider}) cannot be decrypted with any key in LSE_SECRET_KEY: "
                    "keep the old key in the list (after the new one) until the rotation is done"
                ) from exc
            row.updated_at = utcnow()
        return len(rows)
