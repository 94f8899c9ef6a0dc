"""Configs and their immutable versions (Kaapi's config store), scoped to one tenant.

A config is a name plus a history of `config_blob`s; a run pins (config_id, version), so
editing a config is adding a version and old runs keep meaning what they meant. Deleting
a config or a version is soft, as in Kaapi: the row stays (runs still name it) but is no
longer listed, read or usable, and a version number is never given twice. A deleted
config's name is freed at once (the row is renamed `<name>#deleted-<id>`).

Every blob is checked before it is stored: the shape (`ConfigBlob`), and params through
`lse.providers.params` with this deployment's allowlist — a parameter that would not be
sent is refused now (422 naming it), not at run time. Every write builds the response
it will return, serialised, before it commits, so no write succeeds whose answer
cannot be sent. Text stored before the edge refused lone surrogates is shown repaired
(U+FFFD), and runs refuse such a version.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lse.errors import BadRequest, ConflictError, NotFoundError, ValidationFailed
from lse.evals.schemas import (
    MAX_ID,
    ConfigBlob,
    ConfigCreate,
    ConfigPublic,
    ConfigUpdate,
    ConfigVersionCreate,
    ConfigVersionItem,
    ConfigVersionPublic,
    ConfigWithVersion,
)
from lse.providers.params import extra_params, responses_body
from lse.schema_types import check_input, input_problem, repair_text
from lse.settings import Settings
from lse.store.engine import get_engine, retry_when_busy, unit_of_work
from lse.store.errors import conflict_on
from lse.store.models.evaluation import Config, ConfigVersion, utcnow
from lse.tenancy import Tenant

_NAME_CONSTRAINT = "uq_configs_organization_id_project_id_name"
_VERSION_CONSTRAINT = "uq_config_versions_config_id_version"
SUPPORTED_PROVIDERS = ("openai",)
SUPPORTED_TYPES = ("text",)


M = TypeVar("M", bound=BaseModel)


def _answerable(model: M) -> M:
    """`model` once it is known to serialise: called before a write commits."""
    model.model_dump_json()
    return model


def _version_item(v: ConfigVersion) -> ConfigVersionItem:
    return ConfigVersionItem(
        id=v.public_id or str(uuid.UUID(int=v.id)),
        config_id=v.config_id,
        version=v.version,
        commit_message=repair_text(v.commit_message),
        inserted_at=v.created_at,
        updated_at=v.updated_at or v.created_at,
    )


def _version_public(v: ConfigVersion) -> ConfigVersionPublic:
    return ConfigVersionPublic(**_version_item(v).model_dump(), config_blob=repair_text(v.config_blob))


def _latest(session: Session, config_id: str) -> int:
    return (
        session.scalar(
            select(func.max(ConfigVersion.version)).where(
                ConfigVersion.config_id == config_id, ConfigVersion.deleted_at.is_(None)
            )
        )
        or 0
    )


def _public(session: Session, c: Config) -> ConfigPublic:
    return ConfigPublic(
        id=c.id,
        name=repair_text(c.name),
        description=repair_text(c.description),
        organization_id=c.organization_id,
        project_id=c.project_id,
        latest_version=_latest(session, c.id),
        inserted_at=c.created_at,
        updated_at=c.updated_at,
    )


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, TypeError, AttributeError):
        return False


def find_config(session: Session, tenant: Tenant, config_id: str) -> Config:
    """The tenant's live config or 404 — another tenant's config is indistinguishable from none."""
    if not _is_uuid(config_id):
        raise NotFoundError(f"config {config_id!r} not found in this project", code="config_not_found")
    config = session.scalar(
        select(Config).where(
            Config.id == config_id.lower(),
            Config.organization_id == tenant.organization_id,
            Config.project_id == tenant.project_id,
            Config.deleted_at.is_(None),
        )
    )
    if config is None:
        raise NotFoundError(f"config {config_id} not found in this project", code="config_not_found")
    return config


def find_version(session: Session, config_id: str, version: int) -> ConfigVersion:
    row = (
        None
        if not 1 <= version <= MAX_ID
        else session.scalar(
            select(ConfigVersion).where(
                ConfigVersion.config_id == config_id,
                ConfigVersion.version == version,
                ConfigVersion.deleted_at.is_(None),
            )
        )
    )
    if row is None:
        raise NotFoundError(f"config {config_id} has no version {version}", code="config_version_not_found")
    return row


def check_completion(blob: Any) -> None:
    """Only OpenAI text completions have an engine; say so before a run exists."""
    completion = blob.get("completion") if isinstance(blob, dict) else None
    completion = completion if isinstance(completion, dict) else {}
    provider = completion.get("provider")
    if provider not in SUPPORTED_PROVIDERS:
        raise ValidationFailed(
            f"Only 'openai' provider is supported for evaluation configs (got {provider!r})",
            code="provider_unsupported",
        )
    kind = completion.get("type", "text")
    if kind not in SUPPORTED_TYPES:
        raise ValidationFailed(
            f"completion type {kind!r} is not supported for evaluations; only 'text' is",
            code="config_type_unsupported",
        )


def check_params(settings: Settings, blob: dict[str, Any]) -> None:
    """The blob's params as the provider call would send them: a ParamError (422) names the
    first one that is not allowed (only checked for the providers lse calls)."""
    completion = blob.get("completion") or {}
    if completion.get("provider") in SUPPORTED_PROVIDERS:
        responses_body(completion.get("params") or {}, extra_allowed=extra_params(settings.eval_extra_response_params))


def check_runnable(settings: Settings, blob: Any) -> None:
    """What a run needs of its config version: supported, allowed params, storable text."""
    check_completion(blob)
    if input_problem(blob) is not None:
        raise ValidationFailed(
            "this config version holds text that cannot be sent (stored before lse refused it); "
            "create a new version with valid text",
            code="config_invalid_text",
        )
    check_params(settings, blob)


def _validated_blob(settings: Settings, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        blob = ConfigBlob.model_validate(raw).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationFailed(f"config_blob.{loc}: {first.get('msg')}", code="validation_error") from exc
    try:
        check_input(blob)
    except ValueError as exc:
        raise ValidationFailed(f"config_blob: {exc}") from exc
    check_params(settings, blob)
    return blob


def merged_blob(latest: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """Kaapi's partial version body applied to the latest blob: provider and type inherited,
    params merged key by key (None removes a key), other completion keys replaced."""
    out = {k: v for k, v in latest.items() if k != "completion"}
    out.update({k: v for k, v in partial.items() if k != "completion"})
    found = latest.get("completion")
    old: dict[str, Any] = found if isinstance(found, dict) else {}
    new = partial.get("completion")
    if new is None:
        out["completion"] = old
        return out
    if not isinstance(new, dict):
        raise ValidationFailed("config_blob.completion must be an object")
    completion = {**old, **{k: v for k, v in new.items() if k != "params"}}
    params = dict(old.get("params") or {})
    new_params = new.get("params")
    if new_params is not None:
        if not isinstance(new_params, dict):
            raise ValidationFailed("config_blob.completion.params must be an object")
        for key, value in new_params.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
    completion["params"] = params
    out["completion"] = completion
    return out


def _name_taken(name: str) -> ConflictError:
    return ConflictError(f"a config named {name!r} already exists in this project", code="config_name_exists")


def _check_name_free(session: Session, tenant: Tenant, name: str, except_id: str | None = None) -> None:
    query = select(Config.id).where(
        Config.organization_id == tenant.organization_id,
        Config.project_id == tenant.project_id,
        Config.name == name,
    )
    if except_id is not None:
        query = query.where(Config.id != except_id)
    if session.scalar(query):
        raise _name_taken(name)


@retry_when_busy
def create_config(settings: Settings, tenant: Tenant, body: ConfigCreate) -> ConfigWithVersion:
    blob = _validated_blob(settings, body.config_blob.model_dump(mode="json", exclude_none=True))
    with unit_of_work(get_engine(settings), write=True) as session:
        _check_name_free(session, tenant, body.name)
        config = Config(
            organization_id=tenant.organization_id,
            project_id=tenant.project_id,
            name=body.name,
            description=body.description,
        )
        session.add(config)
        with conflict_on(
            _NAME_CONSTRAINT, "configs", ("organization_id", "project_id", "name"), _name_taken(body.name)
        ):
            session.flush()
        version = ConfigVersion(config_id=config.id, version=1, config_blob=blob, commit_message=body.commit_message)
        session.add(version)
        session.flush()
        return _answerable(ConfigWithVersion(**_public(session, config).model_dump(), version=_version_public(version)))


@retry_when_busy
def add_version(settings: Settings, tenant: Tenant, config_id: str, body: ConfigVersionCreate) -> ConfigVersionPublic:
    """Append version max+1 (deleted ones counted); a concurrent append loses on the unique
    constraint (409, retry)."""
    with unit_of_work(get_engine(settings), write=True) as session:
        config = find_config(session, tenant, config_id)
        newest = session.scalar(select(func.max(ConfigVersion.version)).where(ConfigVersion.config_id == config.id))
        live = _latest(session, config.id)
        base = find_version(session, config.id, live).config_blob if live else {}
        blob = _validated_blob(settings, merged_blob(base or {}, body.config_blob))
        version = ConfigVersion(
            config_id=config.id, version=(newest or 0) + 1, config_blob=blob, commit_message=body.commit_message
        )
        session.add(version)
        config.updated_at = utcnow()
        with conflict_on(
            _VERSION_CONSTRAINT,
            "config_versions",
            ("config_id", "version"),
            ConflictError(
                "another version was added to this config at the same time; retry", code="config_version_conflict"
            ),
        ):
            session.flush()
        return _answerable(_version_public(version))


@retry_when_busy
def update_config(settings: Settings, tenant: Tenant, config_id: str, body: ConfigUpdate) -> ConfigPublic:
    """Rename or re-describe a config (Kaapi's PATCH); its versions are untouched."""
    with unit_of_work(get_engine(settings), write=True) as session:
        config = find_config(session, tenant, config_id)
        fields = body.model_dump(exclude_unset=True)
        if fields.get("name") is not None and fields["name"] != config.name:
            _check_name_free(session, tenant, fields["name"], except_id=config.id)
            config.name = fields["name"]
        if "description" in fields:
            config.description = fields["description"]
        config.updated_at = utcnow()
        with conflict_on(
            _NAME_CONSTRAINT, "configs", ("organization_id", "project_id", "name"), _name_taken(config.name)
        ):
            session.flush()
        return _answerable(_public(session, config))


@retry_when_busy
def delete_config(settings: Settings, tenant: Tenant, config_id: str) -> None:
    """Soft-delete the config and its versions; its name is free again at once."""
    with unit_of_work(get_engine(settings), write=True) as session:
        config = find_config(session, tenant, config_id)
        now = utcnow()
        config.deleted_at = now
        config.name = f"{config.name[:210]}#deleted-{config.id}"
        for version in session.scalars(
            select(ConfigVersion).where(ConfigVersion.config_id == config.id, ConfigVersion.deleted_at.is_(None))
        ):
            version.deleted_at = now
            version.updated_at = now


@retry_when_busy
def delete_version(settings: Settings, tenant: Tenant, config_id: str, version: int) -> None:
    """Soft-delete one version; the last live one stays (delete the config instead)."""
    with unit_of_work(get_engine(settings), write=True) as session:
        config = find_config(session, tenant, config_id)
        row = find_version(session, config.id, version)
        live = session.scalar(
            select(func.count()).where(ConfigVersion.config_id == config.id, ConfigVersion.deleted_at.is_(None))
        )
        if live == 1:
            raise BadRequest(
                f"version {version} is the only version of config {config.id}: delete the config instead",
                code="last_config_version",
            )
        row.deleted_at = row.updated_at = utcnow()
        config.updated_at = utcnow()


def list_configs(
    settings: Settings, tenant: Tenant, *, limit: int = 100, offset: int = 0
) -> tuple[list[ConfigPublic], bool]:
    """(a page of configs, most recently changed first; whether more follow)."""
    with unit_of_work(get_engine(settings)) as session:
        rows = session.scalars(
            select(Config)
            .where(
                Config.organization_id == tenant.organization_id,
                Config.project_id == tenant.project_id,
                Config.deleted_at.is_(None),
            )
            .order_by(Config.updated_at.desc(), Config.id)
            .limit(limit + 1)
            .offset(offset)
        ).all()
        return [_public(session, c) for c in rows[:limit]], len(rows) > limit


def get_config(settings: Settings, tenant: Tenant, config_id: str) -> ConfigWithVersion:
    """The config with its latest version."""
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        public = _public(session, config)
        latest = find_version(session, config.id, public.latest_version)
        return ConfigWithVersion(**public.model_dump(), version=_version_public(latest))


def list_versions(
    settings: Settings, tenant: Tenant, config_id: str, *, limit: int = 100, offset: int = 0
) -> tuple[list[ConfigVersionItem], bool]:
    """(a page of live versions, newest first, without blobs; whether more follow)."""
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        rows = session.scalars(
            select(ConfigVersion)
            .where(ConfigVersion.config_id == config.id, ConfigVersion.deleted_at.is_(None))
            .order_by(ConfigVersion.version.desc())
            .limit(limit + 1)
            .offset(offset)
        ).all()
        return [_version_item(v) for v in rows[:limit]], len(rows) > limit


def get_version(settings: Settings, tenant: Tenant, config_id: str, version: int) -> ConfigVersionPublic:
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        return _version_public(find_version(session, config.id, version))


def resolve_version(session: Session, tenant: Tenant, config_id: str, version: int) -> tuple[Config, ConfigVersion]:
    """A run's config version, or Kaapi's 400 "Failed to resolve config: …" when it does not
    resolve (unknown or deleted config or version, or another project's)."""
    try:
        config = find_config(session, tenant, config_id)
        return config, find_version(session, config.id, version)
    except NotFoundError as exc:
        raise BadRequest(f"Failed to resolve config: {exc.message}", code="config_not_resolved") from exc
