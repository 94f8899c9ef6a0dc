"""API keys: a random secret shown once, stored only as its sha256.

sha256 (not a slow password hash) is right here because the secret is 32 random bytes,
not a human password: nothing to brute-force, and lookup by hash stays one indexed query.
The short prefix is kept in clear so a human can tell keys apart in listings
(`lse admin list-keys`), which also show when a key was created and last used — never
the key. `last_used_at` is refreshed at most once every `TOUCH_EVERY_S` per key, so
authentication costs a write only rarely.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.errors import AuthError, NotFoundError, StorageBusy, UsageError
from lse.schema_types import UtcDatetime
from lse.settings import Settings
from lse.store.engine import get_engine, retry_when_busy, unit_of_work
from lse.store.models.evaluation import ApiKey, Organization, Project, utcnow

log = logging.getLogger(__name__)

KEY_PREFIX = "lse_"
_PREFIX_SHOWN = 12
TOUCH_EVERY_S = 60
MAX_KEY_CHARS = 256  # longer is not a key of ours: refused before it is hashed


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    project_id: int
    organization: str
    project: str


@dataclass(frozen=True)
class CreatedKey:
    api_key: str
    key_prefix: str
    tenant: Tenant


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _check_name(kind: str, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise UsageError(f"{kind} name must be 1-255 characters")
    return name


def _get_or_create_org(session: Session, name: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        try:
            with session.begin_nested():
                org = Organization(name=name)
                session.add(org)
        except IntegrityError:  # created concurrently: take theirs
            org = session.scalars(select(Organization).where(Organization.name == name)).one()
    return org


def _get_or_create_project(session: Session, org: Organization, name: str) -> Project:
    query = select(Project).where(Project.organization_id == org.id, Project.name == name)
    project = session.scalar(query)
    if project is None:
        try:
            with session.begin_nested():
                project = Project(organization_id=org.id, name=name)
                session.add(project)
        except IntegrityError:
            project = session.scalars(query).one()
    return project


def ensure_tenant_in(session: Session, organization: str, project: str) -> Tenant:
    org = _get_or_create_org(session, _check_name("organization", organization))
    proj = _get_or_create_project(session, org, _check_name("project", project))
    return Tenant(org.id, proj.id, org.name, proj.name)


@retry_when_busy
def ensure_tenant(settings: Settings, organization: str, project: str) -> Tenant:
    """The tenant with these names, creating the organization and project if missing."""
    with unit_of_work(get_engine(settings), write=True) as session:
        return ensure_tenant_in(session, organization, project)


def resolve_tenant(settings: Settings, organization: str, project: str) -> Tenant:
    """The existing tenant with these names (404 if either is unknown)."""
    with unit_of_work(get_engine(settings)) as session:
        row = session.execute(
            select(Organization, Project)
            .join(Project, Project.organization_id == Organization.id)
            .where(Organization.name == organization, Project.name == project)
        ).first()
        if row is None:
            raise NotFoundError(
                f"no project {project!r} in organization {organization!r}: "
                "create it with `lse admin create-key --org ... --project ...`"
            )
        org, proj = row
        return Tenant(org.id, proj.id, org.name, proj.name)


@retry_when_busy
def create_key(settings: Settings, organization: str, project: str) -> CreatedKey:
    """Create what is missing (org, project) and a new key; the secret is returned only here."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(get_engine(settings), write=True) as session:
        tenant = ensure_tenant_in(session, organization, project)
        session.add(
            ApiKey(
                organization_id=tenant.organization_id,
                project_id=tenant.project_id,
                key_prefix=raw[:_PREFIX_SHOWN],
                key_hash=hash_key(raw),
            )
        )
    return CreatedKey(api_key=raw, key_prefix=raw[:_PREFIX_SHOWN], tenant=tenant)


def authenticate(settings: Settings, raw_key: str | None) -> Tenant:
    """The tenant of a live key; AuthError (401) for a missing, unknown or revoked one."""
    if not raw_key:
        raise AuthError("missing API key: send it in the X-API-KEY header")
    if len(raw_key) > MAX_KEY_CHARS or not raw_key.isascii():
        raise AuthError("invalid or revoked API key")
    digest = hash_key(raw_key)
    with unit_of_work(get_engine(settings)) as session:
        row = session.execute(
            select(ApiKey.id, ApiKey.last_used_at, Organization, Project)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .join(Project, Project.id == ApiKey.project_id)
            .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
        ).first()
        if row is None:
            raise AuthError("invalid or revoked API key")
        key_id, last_used, org, proj = row
        tenant = Tenant(org.id, proj.id, org.name, proj.name)
    if last_used is None or _aware(last_used) < utcnow() - timedelta(seconds=TOUCH_EVERY_S):
        _touch(settings, key_id)
    return tenant


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _touch(settings: Settings, key_id: int) -> None:
    """Record that the key was used; a busy database skips it (the next use records it)."""
    try:
        with unit_of_work(get_engine(settings), write=True) as session:
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
    except StorageBusy:
        log.warning("api key %s: last use not recorded, the database was busy", key_id)


class KeyInfo(BaseModel):
    """What `lse admin list-keys` shows of a key: never the key itself."""

    id: int
    key_prefix: str
    organization: str
    project: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


def _key_infos(session: Session, where: list) -> list[KeyInfo]:
    rows = session.execute(
        select(ApiKey, Organization.name, Project.name)
        .join(Organization, Organization.id == ApiKey.organization_id)
        .join(Project, Project.id == ApiKey.project_id)
        .where(*where)
        .order_by(ApiKey.created_at, ApiKey.id)
    ).all()
    return [
        KeyInfo(
            id=k.id,
            key_prefix=k.key_prefix,
            organization=org,
            project=proj,
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
        )
        for k, org, proj in rows
    ]


def list_keys(
    settings: Settings, organization: str | None = None, project: str | None = None, *, include_revoked: bool = False
) -> list[KeyInfo]:
    """Keys, oldest first, optionally of one organization (and project)."""
    where: list = []
    if organization is not None:
        where.append(Organization.name == organization)
    if project is not None:
        where.append(Project.name == project)
    if not include_revoked:
        where.append(ApiKey.revoked_at.is_(None))
    with unit_of_work(get_engine(settings)) as session:
        return _key_infos(session, where)


@retry_when_busy
def revoke_key(settings: Settings, key: str) -> KeyInfo:
    """Revoke the key with this id or prefix (or the full key); it answers 401 from now on."""
    key = (key or "").strip()
    if not key:
        raise UsageError("name the key to revoke by its id or prefix (see `lse admin list-keys`)")
    with unit_of_work(get_engine(settings), write=True) as session:
        if key.isdigit():
            match = ApiKey.id == int(key)
        elif len(key) > _PREFIX_SHOWN:
            match = ApiKey.key_hash == hash_key(key)
        else:
            match = ApiKey.key_prefix == key
        found = _key_infos(session, [match])
        if not found:
            raise NotFoundError(f"no API key {key!r}: see `lse admin list-keys`", code="key_not_found")
        if len(found) > 1:
            raise UsageError(f"{len(found)} keys have the prefix {key!r}: revoke one by its id")
        info = found[0]
        if info.revoked_at is None:
            now = utcnow()
            session.execute(update(ApiKey).where(ApiKey.id == info.id).values(revoked_at=now))
            info = info.model_copy(update={"revoked_at": now})
        return info
