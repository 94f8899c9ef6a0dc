"""Tenancy: organizations, projects, the API keys that name one (org, project) pair, and
each project's own provider credentials.

Every dataset, config and run belongs to exactly one tenant; services take a `Tenant`
and filter every query by it, so a key of another project sees 404, never the object.
"""

from lse.tenancy.keys import (
    CreatedKey,
    KeyInfo,
    Tenant,
    authenticate,
    create_key,
    ensure_tenant,
    list_keys,
    resolve_tenant,
    revoke_key,
)

__all__ = [
    "CreatedKey",
    "KeyInfo",
    "Tenant",
    "authenticate",
    "create_key",
    "ensure_tenant",
    "list_keys",
    "resolve_tenant",
    "revoke_key",
]
