"""Who is signed in: an API key checked once at sign-in, then its row id in the session.

The same keys as the REST API (`lse admin create-key`), so a viewer sees exactly what
that key's API calls would: one (organization, project), plus the archived LangSmith
projects granted to it (`lse.web.access`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lse.errors import AuthError
from lse.settings import Settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ApiKey, Organization, Project
from lse.tenancy import Tenant, authenticate
from lse.tenancy.keys import hash_key


@dataclass(frozen=True)
class Viewer:
    tenant: Tenant
    key_id: int
    csrf: str


def sign_in(settings: Settings, raw_key: str) -> tuple[Tenant, int]:
    """The tenant and key id of a live key; AuthError for a missing, unknown or revoked one."""
    tenant = authenticate(settings, raw_key.strip())
    with unit_of_work(get_engine(settings)) as session:
        key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(raw_key.strip())))
    if key_id is None:  # revoked between the two reads
        raise AuthError("invalid or revoked API key")
    return tenant, int(key_id)


def tenant_of_key(settings: Settings, key_id: int) -> Tenant | None:
    """The tenant of a key that is still live, or None (revoked or deleted)."""
    with unit_of_work(get_engine(settings)) as session:
        row = session.execute(
            select(Organization, Project)
            .join(ApiKey, ApiKey.organization_id == Organization.id)
            .join(Project, Project.id == ApiKey.project_id)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        ).first()
        if row is None:
            return None
        org, proj = row
        return Tenant(org.id, proj.id, org.name, proj.name)
