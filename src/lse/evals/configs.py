"""Configs and their immutable versions (Kaapi's config store), scoped to one tenant.

A config is a name plus a history of `config_blob`s; a run pins (config_id, version), so
editing a config is adding a version and old runs keep meaning what they meant.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lse.errors import ConflictError, NotFoundError
from lse.evals.integrity import flush_unique
from lse.evals.schemas import (
    MAX_ID,
    ConfigCreate,
    ConfigPublic,
    ConfigVersionCreate,
    ConfigVersionPublic,
    ConfigWithVersion,
)
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import Config, ConfigVersion, utcnow
from lse.tenancy import Tenant

_NAME_CONSTRAINT = "uq_configs_organization_id_project_id_name"
_VERSION_CONSTRAINT = "uq_config_versions_config_id_version"


def _version_public(v: ConfigVersion) -> ConfigVersionPublic:
    return ConfigVersionPublic(
        id=v.id,
        config_id=v.config_id,
        version=v.version,
        config_blob=v.config_blob,
        commit_message=v.commit_message,
        inserted_at=v.created_at,
    )


def _public(session: Session, c: Config) -> ConfigPublic:
    latest = session.scalar(select(func.max(ConfigVersion.version)).where(ConfigVersion.config_id == c.id))
    return ConfigPublic(
        id=c.id,
        name=c.name,
        description=c.description,
        organization_id=c.organization_id,
        project_id=c.project_id,
        latest_version=latest or 0,
        inserted_at=c.created_at,
        updated_at=c.updated_at,
    )


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, TypeError, AttributeError):
        return False


def find_config(session: Session, tenant: Tenant, config_id: str) -> Config:
    """The tenant's config or 404 — another tenant's config is indistinguishable from none."""
    if not _is_uuid(config_id):
        raise NotFoundError(f"config {config_id!r} not found in this project", code="config_not_found")
    config = session.scalar(
        select(Config).where(
            Config.id == config_id.lower(),
            Config.organization_id == tenant.organization_id,
            Config.project_id == tenant.project_id,
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
            select(ConfigVersion).where(ConfigVersion.config_id == config_id, ConfigVersion.version == version)
        )
    )
    if row is None:
        raise NotFoundError(f"config {config_id} has no version {version}", code="config_version_not_found")
    return row


def create_config(settings: Settings, tenant: Tenant, body: ConfigCreate) -> ConfigWithVersion:
    with unit_of_work(get_engine(settings)) as session:
        exists = session.scalar(
            select(Config.id).where(
                Config.organization_id == tenant.organization_id,
                Config.project_id == tenant.project_id,
                Config.name == body.name,
            )
        )
        if exists:
            raise ConflictError(
                f"a config named {body.name!r} already exists in this project", code="config_name_exists"
            )
        config = Config(
            organization_id=tenant.organization_id,
            project_id=tenant.project_id,
            name=body.name,
            description=body.description,
        )
        session.add(config)
        flush_unique(
            session,
            _NAME_CONSTRAINT,
            "configs",
            ("organization_id", "project_id", "name"),
            ConflictError(f"a config named {body.name!r} already exists in this project", code="config_name_exists"),
        )
        version = ConfigVersion(
            config_id=config.id,
            version=1,
            config_blob=body.config_blob.model_dump(mode="json", exclude_none=True),
            commit_message=body.commit_message,
        )
        session.add(version)
        session.flush()
        return ConfigWithVersion(**_public(session, config).model_dump(), version=_version_public(version))


def add_version(settings: Settings, tenant: Tenant, config_id: str, body: ConfigVersionCreate) -> ConfigVersionPublic:
    """Append version max+1; a concurrent append loses on the unique constraint (409, retry)."""
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        latest = session.scalar(select(func.max(ConfigVersion.version)).where(ConfigVersion.config_id == config.id))
        version = ConfigVersion(
            config_id=config.id,
            version=(latest or 0) + 1,
            config_blob=body.config_blob.model_dump(mode="json", exclude_none=True),
            commit_message=body.commit_message,
        )
        session.add(version)
        config.updated_at = utcnow()
        flush_unique(
            session,
            _VERSION_CONSTRAINT,
            "config_versions",
            ("config_id", "version"),
            ConflictError(
                "another version was added to this config at the same time; retry", code="config_version_conflict"
            ),
        )
        return _version_public(version)


def list_configs(settings: Settings, tenant: Tenant, *, limit: int = 50, offset: int = 0) -> list[ConfigPublic]:
    with unit_of_work(get_engine(settings)) as session:
        rows = session.scalars(
            select(Config)
            .where(Config.organization_id == tenant.organization_id, Config.project_id == tenant.project_id)
            .order_by(Config.updated_at.desc(), Config.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_public(session, c) for c in rows]


def get_config(settings: Settings, tenant: Tenant, config_id: str) -> ConfigWithVersion:
    """The config with its latest version."""
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        public = _public(session, config)
        latest = find_version(session, config.id, public.latest_version)
        return ConfigWithVersion(**public.model_dump(), version=_version_public(latest))


def list_versions(settings: Settings, tenant: Tenant, config_id: str) -> list[ConfigVersionPublic]:
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        rows = session.scalars(
            select(ConfigVersion).where(ConfigVersion.config_id == config.id).order_by(ConfigVersion.version)
        ).all()
        return [_version_public(v) for v in rows]


def get_version(settings: Settings, tenant: Tenant, config_id: str, version: int) -> ConfigVersionPublic:
    with unit_of_work(get_engine(settings)) as session:
        config = find_config(session, tenant, config_id)
        return _version_public(find_version(session, config.id, version))
