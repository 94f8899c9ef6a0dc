"""API keys: a random secret shown once, stored only as its sha256.

sha256 (not a slow password hash) is right here because the secret is 32 random bytes,
not a human password: nothing to brute-force, and lookup by hash stays one indexed query.
The short prefix is kept in clear so a human can tell keys apart in listings.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lse.errors import AuthError, NotFoundError, UsageError
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ApiKey, Organization, Project

KEY_PREFIX = "lse_"
_PREFIX_SHOWN = 12


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


def ensure_tenant(settings: Settings, organization: str, project: str) -> Tenant:
    """The tenant with these names, creating the organization and project if missing."""
    with unit_of_work(get_engine(settings)) as session:
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


def create_key(settings: Settings, organization: str, project: str) -> CreatedKey:
    """Create what is missing (org, project) and a new key; the secret is returned only here."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(get_engine(settings)) as session:
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
    with unit_of_work(get_engine(settings)) as session:
        row = session.execute(
            select(ApiKey, Organization, Project)
            .join(Organization, Organization.id == ApiKey.organization_id)
            .join(Project, Project.id == ApiKey.project_id)
            .where(ApiKey.key_hash == hash_key(raw_key), ApiKey.revoked_at.is_(None))
        ).first()
        if row is None:
            raise AuthError("invalid or revoked API key")
        _, org, proj = row
        return Tenant(org.id, proj.id, org.name, proj.name)
