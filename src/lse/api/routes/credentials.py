"""/api/v1/credentials: the project's own provider keys, in Kaapi's shape.

Unlike Kaapi, values are never returned in clear: every response shows them masked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.evals.schemas import Message
from lse.tenancy import credentials
from lse.tenancy.credentials import CredentialPublic, CredentialsCreate, CredentialsUpdate

router = APIRouter(prefix="/credentials", tags=["credentials"])

Provider = Annotated[str, Path(min_length=1, max_length=32)]


@router.post("", response_model=APIResponse[list[CredentialPublic]])
@router.post("/", response_model=APIResponse[list[CredentialPublic]], include_in_schema=False)
def create_credentials(body: CredentialsCreate, settings: SettingsDep, tenant: TenantDep):
    """Store one or more providers' credentials (encrypted); one set per provider (409)."""
    return ok(credentials.create_credentials(settings, tenant, body))


@router.get("", response_model=APIResponse[list[CredentialPublic]])
@router.get("/", response_model=APIResponse[list[CredentialPublic]], include_in_schema=False)
def list_credentials(settings: SettingsDep, tenant: TenantDep):
    """Every provider's credentials, masked; 404 if the project has none."""
    return ok(credentials.list_credentials(settings, tenant))


@router.patch("", response_model=APIResponse[list[CredentialPublic]])
@router.patch("/", response_model=APIResponse[list[CredentialPublic]], include_in_schema=False)
def update_credentials(body: CredentialsUpdate, settings: SettingsDep, tenant: TenantDep):
    """Replace one provider's fields (the others kept) or switch it on or off."""
    return ok(credentials.update_credentials(settings, tenant, body))


@router.get("/provider/{provider}", response_model=APIResponse[CredentialPublic])
def get_provider(provider: Provider, settings: SettingsDep, tenant: TenantDep):
    return ok(credentials.get_credential(settings, tenant, provider))


@router.delete("/provider/{provider}", response_model=APIResponse[Message])
def delete_provider(provider: Provider, settings: SettingsDep, tenant: TenantDep):
    credentials.delete_credential(settings, tenant, provider)
    return ok(Message(message="Provider credentials removed successfully"))


@router.delete("", response_model=APIResponse[Message])
@router.delete("/", response_model=APIResponse[Message], include_in_schema=False)
def delete_all(settings: SettingsDep, tenant: TenantDep):
    credentials.delete_all_credentials(settings, tenant)
    return ok(Message(message="All credentials deleted successfully"))
