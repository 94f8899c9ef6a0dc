"""Request dependencies: the app's settings and the tenant named by the X-API-KEY header.

The key is checked by the request guard before any body is read (`lse.api.guard`); the
dependency takes the tenant it found. It is declared here too so the OpenAPI schema shows
the header, and so a route reached some other way is never unauthenticated.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from lse.api.guard import TENANT_SCOPE_KEY
from lse.settings import Settings
from lse.tenancy import Tenant, authenticate

api_key_header = APIKeyHeader(name="X-API-KEY", auto_error=False, description="Key from `lse admin create-key`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_tenant(request: Request, api_key: Annotated[str | None, Security(api_key_header)] = None) -> Tenant:
    """401 for a missing or unknown key (raised as AuthError, enveloped by the handler)."""
    tenant = request.scope.get(TENANT_SCOPE_KEY)
    if isinstance(tenant, Tenant):
        return tenant
    return authenticate(get_settings(request), api_key)


SettingsDep = Annotated[Settings, Depends(get_settings)]
TenantDep = Annotated[Tenant, Depends(get_tenant)]
