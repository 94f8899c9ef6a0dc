"""The CLI's tenant, named by --org/--project (default "default"/"default").

Only commands that create something (dataset upload/from-archive, config create/version)
create a missing tenant; every other command refuses an unknown one, so a typo in --org
is an error instead of a silently created, empty organization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lse.settings import Settings

if TYPE_CHECKING:
    from lse.tenancy import Tenant

DEFAULT = "default"

OrgOption = typer.Option(DEFAULT, "--org", help="Organization name.")
ProjectOption = typer.Option(DEFAULT, "--project", help="Project name.")


def tenant_for(settings: Settings, org: str, project: str, *, create: bool = False) -> Tenant:
    """The named tenant; created if missing only when `create` (the command creates objects)."""
    from lse.tenancy import ensure_tenant, resolve_tenant

    return ensure_tenant(settings, org, project) if create else resolve_tenant(settings, org, project)
