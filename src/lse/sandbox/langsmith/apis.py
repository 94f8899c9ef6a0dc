"""Which runs query APIs the sandbox speaks, to play the three kinds of LangSmith server
lse meets while v1 is phased out (flip them at runtime, like faults):

- `ServerApis()`: both live, as LangSmith before the deprecation;
- `ServerApis.old_self_hosted()`: no v2 route (self-hosted before 0.16): 404;
- `ServerApis.v1_deprecated()`: v1 answers with `Deprecation: true` and
  `Sunset: Sun, 31 Jan 2027 00:00:00 GMT` (LangSmith cloud until the removal);
- `ServerApis.v2_only()`: v1 gone, a 410 (or 404) JSON error (after 2027-01-31).

The v1 run reads (`POST /runs/query`, `GET /runs/{id}`) are what the switches touch;
feedback and sessions are not deprecated. `/info` tells the same story in its version
and `instance_flags` (`ch_query_enabled`, `sdb_query_enabled`), as the SDK reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SUNSET = "Sun, 31 Jan 2027 00:00:00 GMT"


@dataclass
class ServerApis:
    v2: bool = True
    v1: Literal["live", "deprecated", "gone"] = "live"
    v1_gone_status: int = 410
    sunset: str = SUNSET

    @classmethod
    def old_self_hosted(cls) -> ServerApis:
        return cls(v2=False)

    @classmethod
    def v1_deprecated(cls) -> ServerApis:
        return cls(v1="deprecated")

    @classmethod
    def v2_only(cls, status: int = 410) -> ServerApis:
        return cls(v1="gone", v1_gone_status=status)

    def v1_headers(self) -> dict[str, str]:
        """Headers every v1 run read carries."""
        return {"Deprecation": "true", "Sunset": self.sunset} if self.v1 == "deprecated" else {}

    @property
    def version(self) -> str:
        if not self.v2:
            return "0.15.6"
        return "0.18.4" if self.v1 == "gone" else "0.17.2"

    def instance_flags(self) -> dict[str, bool]:
        return {"ch_query_enabled": self.v1 != "gone", "sdb_query_enabled": self.v2}
