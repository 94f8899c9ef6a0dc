"""WARNING alerts for LangSmith endpoints that answered with `Deprecation`/`Sunset` headers.

LangSmith marks an endpoint it will remove with `Deprecation` (RFC 9745: `@<unix time>`,
or the older `true`) and `Sunset` (RFC 8594: an HTTP date) before it degrades and then
disappears. A fetch records the endpoints that carried them; here each (project, endpoint)
seen in the window becomes one WARNING naming the endpoint and the sunset date.
"""

from __future__ import annotations

import email.utils
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from lse.monitoring.alerts import Alert, Level
from lse.monitoring.figures import FetchFigures

KIND = "deprecation"


def header_time(raw: str | None) -> datetime | None:
    """A `Sunset` HTTP date or a `Deprecation` `@<unix time>`, as an aware UTC datetime."""
    if not raw:
        return None
    text = raw.strip()
    if text.startswith("@"):
        try:
            return datetime.fromtimestamp(int(text[1:]), tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sunset_text(raw: str | None) -> str:
    when = header_time(raw)
    if when is not None:
        return f"{when.date().isoformat()} ({raw})"
    return raw or "not announced"


def _advice(endpoint: str) -> str:
    if endpoint.endswith((" /runs/query", "/api/v1/runs/query")):
        return (
            "set LSE_LANGSMITH_RUN_API=auto (or v2) to use POST /api/v2/runs/query; "
            "a self-hosted server needs 0.16 or later for it"
        )
    return "this lse still calls it: upgrade lse before the sunset"


def deprecation_alerts(window: list[FetchFigures]) -> list[Alert]:
    """One WARNING per (project, endpoint) that answered deprecated in the window."""
    seen: dict[tuple[str, str], list[tuple[FetchFigures, dict[str, Any]]]] = defaultdict(list)
    for fig in window:
        for endpoint, headers in fig.deprecations.items():
            seen[(fig.project, endpoint)].append((fig, headers))
    alerts = []
    for (project, endpoint), hits in sorted(seen.items()):
        last, headers = max(hits, key=lambda h: h[0].finished_at or datetime.min.replace(tzinfo=UTC))
        via = f" through the {last.run_api} runs query" if last.run_api else ""
        message = (
            f"LangSmith marks {endpoint} deprecated (Deprecation: {headers.get('deprecation') or '-'}), "
            f"sunset {sunset_text(headers.get('sunset'))}: {len(hits)} fetch(es) in the window used it, "
            f"last for {last.day}{via}; {_advice(endpoint)}"
        )
        alerts.append(
            Alert(
                level=Level.WARNING,
                project=project,
                day=last.day,
                kind=KIND,
                message=message,
                at=last.finished_at,
                endpoint=endpoint,
                sunset=headers.get("sunset"),
            )
        )
    return alerts
