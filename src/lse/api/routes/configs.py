"""/api/v1/configs: named, versioned completion configs (Kaapi's config store).

Both `/configs` and `/configs/` answer (Kaapi's canonical form has the slash), so a
client that does not follow redirects never sees a 307. Lists page with `offset` or
Kaapi's `skip` and say in `metadata.has_more` whether another page follows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from lse.api.deps import SettingsDep, TenantDep
from lse.api.envelope import APIResponse, ok
from lse.evals import configs
from lse.evals.schemas import (
    ConfigCreate,
    ConfigPublic,
    ConfigUpdate,
    ConfigVersionCreate,
    ConfigVersionItem,
    ConfigVersionPublic,
    ConfigWithVersion,
    Message,
)
from lse.schema_types import MAX_ID

router = APIRouter(prefix="/configs", tags=["configs"])

ConfigId = Annotated[str, Path(min_length=1, max_length=64)]
VersionNo = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Rows to skip (also accepted as `skip`).")]
Skip = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Kaapi's name for `offset`.")]


def _start(offset: int | None, skip: int | None) -> int:
    return offset if offset is not None else (skip or 0)


@router.post("", status_code=201, response_model=APIResponse[ConfigWithVersion])
@router.post("/", status_code=201, response_model=APIResponse[ConfigWithVersion], include_in_schema=False)
def create_config(body: ConfigCreate, settings: SettingsDep, tenant: TenantDep):
    """Create a config with version 1; names are unique per project (409)."""
    return ok(configs.create_config(settings, tenant, body))


@router.get("", response_model=APIResponse[list[ConfigPublic]])
@router.get("/", response_model=APIResponse[list[ConfigPublic]], include_in_schema=False)
def list_configs(
    settings: SettingsDep, tenant: TenantDep, limit: Limit = 100, offset: Offset = None, skip: Skip = None
):
    """Most recently changed first; `metadata.has_more` says whether another page follows."""
    start = _start(offset, skip)
    rows, more = configs.list_configs(settings, tenant, limit=limit, offset=start)
    return ok(rows, metadata={"limit": limit, "offset": start, "count": len(rows), "has_more": more})


@router.get("/{config_id}", response_model=APIResponse[ConfigWithVersion])
def get_config(config_id: ConfigId, settings: SettingsDep, tenant: TenantDep):
    """The config with its latest version."""
    return ok(configs.get_config(settings, tenant, config_id))


@router.patch("/{config_id}", response_model=APIResponse[ConfigPublic])
def update_config(config_id: ConfigId, body: ConfigUpdate, settings: SettingsDep, tenant: TenantDep):
    """Rename or re-describe a config; change its params with a new version."""
    return ok(configs.update_config(settings, tenant, config_id, body))


@router.delete("/{config_id}", response_model=APIResponse[Message])
def delete_config(config_id: ConfigId, settings: SettingsDep, tenant: TenantDep):
    """Delete a config and its versions (kept for the runs that used them, no longer usable)."""
    configs.delete_config(settings, tenant, config_id)
    return ok(Message(message="Config deleted successfully"))


@router.post("/{config_id}/versions", status_code=201, response_model=APIResponse[ConfigVersionPublic])
def create_version(config_id: ConfigId, body: ConfigVersionCreate, settings: SettingsDep, tenant: TenantDep):
    """Add an immutable version (latest + 1): a whole blob, or only the keys that change."""
    return ok(configs.add_version(settings, tenant, config_id, body))


@router.get("/{config_id}/versions", response_model=APIResponse[list[ConfigVersionItem]])
def list_versions(
    config_id: ConfigId,
    settings: SettingsDep,
    tenant: TenantDep,
    limit: Limit = 100,
    offset: Offset = None,
    skip: Skip = None,
):
    """Newest first, without blobs (GET one version for its blob)."""
    start = _start(offset, skip)
    rows, more = configs.list_versions(settings, tenant, config_id, limit=limit, offset=start)
    return ok(rows, metadata={"limit": limit, "offset": start, "count": len(rows), "has_more": more})


@router.get("/{config_id}/versions/{version}", response_model=APIResponse[ConfigVersionPublic])
def get_version(config_id: ConfigId, version: VersionNo, settings: SettingsDep, tenant: TenantDep):
    return ok(configs.get_version(settings, tenant, config_id, version))


@router.delete("/{config_id}/versions/{version}", response_model=APIResponse[Message])
def delete_version(config_id: ConfigId, version: VersionNo, settings: SettingsDep, tenant: TenantDep):
    """Delete one version (kept for the runs that used it; its number is never reused)."""
    configs.delete_version(settings, tenant, config_id, version)
    return ok(Message(message="Config Version deleted successfully"))
