"""API keys: created with what is missing, shown once, stored as sha256, resolved to one tenant."""

from __future__ import annotations

import hashlib

import pytest

from lse.errors import AuthError, NotFoundError, UsageError
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ApiKey, Organization, Project
from lse.tenancy import authenticate, create_key, ensure_tenant, resolve_tenant


def test_create_key_creates_missing_tenancy_once_and_authenticates(db_settings):
    k1 = create_key(db_settings, "acme", "alpha")
    k2 = create_key(db_settings, "acme", "alpha")
    k3 = create_key(db_settings, "acme", "beta")
    assert k1.api_key != k2.api_key and k1.api_key.startswith("lse_") and len(k1.api_key) > 40
    assert k1.tenant == k2.tenant and k3.tenant.project_id != k1.tenant.project_id
    assert k3.tenant.organization_id == k1.tenant.organization_id
    with unit_of_work(get_engine(db_settings)) as s:
        assert s.query(Organization).count() == 1 and s.query(Project).count() == 2
        hashes = {k.key_hash for k in s.query(ApiKey)}
    assert hashes == {hashlib.sha256(k.api_key.encode()).hexdigest() for k in (k1, k2, k3)}

    assert authenticate(db_settings, k3.api_key) == k3.tenant
    for bad in (None, "", "lse_nope", k1.api_key + "x"):
        with pytest.raises(AuthError):
            authenticate(db_settings, bad)


def test_resolve_and_ensure_tenant(db_settings):
    with pytest.raises(NotFoundError):
        resolve_tenant(db_settings, "o", "p")
    t = ensure_tenant(db_settings, "o", "p")
    assert ensure_tenant(db_settings, "o", "p") == t == resolve_tenant(db_settings, "o", "p")
    with pytest.raises(UsageError):
        ensure_tenant(db_settings, " ", "p")
