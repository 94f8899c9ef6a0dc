"""/api/v1/configs: named, versioned completion configs (Kaapi's config store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.evals import configs
from lse.evals.schemas import (
    ConfigCreate,
    ConfigPublic,
    ConfigVersionCreate,
    ConfigVersionPublic,
    ConfigWithVersion,
)

router = APIRouter(prefix="/configs", tags=["configs"])

ConfigId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("", status_code=201, response_model=APIResponse[ConfigWithVersion])
def create_config(body: ConfigCreate, settings: SettingsDep, tenant: TenantDep):
    """Create a config with version 1; names are unique per project (409)."""
    return ok(configs.create_config(settings, tenant, body))


@router.get("", response_model=APIResponse[list[ConfigPublic]])
def list_configs(
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
):
    return ok(configs.list_configs(settings, tenant, limit=limit, offset=offset))


@router.get("/{config_id}", response_model=APIResponse[ConfigWithVersion])
def get_config(config_id: ConfigId, settings: SettingsDep, tenant: TenantDep):
    """The config with its latest version."""
    return ok(configs.get_config(settings, tenant, config_id))


@router.post("/{config_id}/versions", status_code=201, response_model=APIResponse[ConfigVersionPublic])
def create_version(config_id: ConfigId, body: ConfigVersionCreate, settings: SettingsDep, tenant: TenantDep):
    """Add an immutable version (latest + 1)."""
    return ok(configs.add_version(settings, tenant, config_id, body))


@router.get("/{config_id}/versions", response_model=APIResponse[list[ConfigVersionPublic]])
def list_versions(config_id: ConfigId, settings: SettingsDep, tenant: TenantDep):
    return ok(configs.list_versions(settings, tenant, config_id))


@router.get("/{config_id}/versions/{version}", response_model=APIResponse[ConfigVersionPublic])
def get_version(
    config_id: ConfigId,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    settings: SettingsDep,
    tenant: TenantDep,
):
    return ok(configs.get_version(settings, tenant, config_id, version))
