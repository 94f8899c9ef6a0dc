"""Which archived LangSmith projects an evaluation project's key may see in the viewer.

The archive has no tenants of its own: `lse archive fetch` writes LangSmith projects,
while keys belong to an (organization, project) of the evaluation service. The mapping
between the two is the operator's decision, so it is explicit
(`LSE_WEB_ARCHIVE_ACCESS="acme/support=support-prod,support-staging;demo/demo=*"`) and a
key with no entry sees no archive at all — nothing is granted by a name that happens to
match, since project names are unique only within an organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lse.errors import ConfigError
from lse.tenancy import Tenant

ALL = "*"


@dataclass(frozen=True)
class ArchiveAccess:
    grants: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def projects_for(self, tenant: Tenant) -> frozenset[str]:
        """The LangSmith projects this tenant may see; {'*'} means every archived project."""
        return self.grants.get((tenant.organization, tenant.project), frozenset())

    def allows(self, tenant: Tenant, archive_project: str) -> bool:
        granted = self.projects_for(tenant)
        return ALL in granted or archive_project in granted

    def visible(self, tenant: Tenant, existing: list[str]) -> list[str]:
        """Of the archived projects that exist, those the tenant may see, sorted."""
        granted = self.projects_for(tenant)
        if ALL in granted:
            return sorted(existing)
        return sorted(p for p in existing if p in granted)


def parse_access(spec: str) -> ArchiveAccess:
    """Parse `org/project=ls-a,ls-b;org2/project2=*`; a malformed entry is a ConfigError."""
    grants: dict[tuple[str, str], frozenset[str]] = {}
    for raw in (spec or "").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        tenant_part, sep, projects_part = entry.partition("=")
        org, slash, project = tenant_part.strip().partition("/")
        projects = frozenset(p.strip() for p in projects_part.split(",") if p.strip())
        if not sep or not slash or not org.strip() or not project.strip() or not projects:
            raise ConfigError(
                f"LSE_WEB_ARCHIVE_ACCESS: entry {entry!r} is not 'org/project=ls-project[,ls-project...]' "
                "(entries separated by ';', '*' grants every archived project)"
            )
        key = (org.strip(), project.strip())
        grants[key] = grants.get(key, frozenset()) | projects
    return ArchiveAccess(grants)
