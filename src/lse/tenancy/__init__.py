"""Tenancy: organizations, projects and the API keys that name one (org, project) pair.

Every dataset, config and run belongs to exactly one tenant; services take a `Tenant`
and filter every query by it, so a key of another project sees 404, never the object.
"""

from lse.tenancy.keys import CreatedKey, Tenant, authenticate, create_key, ensure_tenant, resolve_tenant

__all__ = ["CreatedKey", "Tenant", "authenticate", "create_key", "ensure_tenant", "resolve_tenant"]
