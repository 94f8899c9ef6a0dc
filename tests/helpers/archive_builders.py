"""Builders of archived project-days in the exact on-disk format (runs.jsonl + manifest.json).

Runs look like what the LangSmith API returns (plus `feedback_records`,
`feedback_fetch_status`); feedback values carry the verdict/rationale shape of the
real traces. Lines are written with ensure_ascii=True, as the archive writer does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from lse.archive.layout import day_dir
from lse.archive.manifest import DayCounts, FetchCounters, Manifest
from lse.settings import Settings

PROJECT = "proj-α/β"  # a name that needs its slug
DAY = date(2025, 9, 6)
FACTORS = ("criteria_a", "criteria_b", "criteria_c", "criteria_d", "decision_factor_1")


def new_id() -> str:
    return str(uuid.uuid4())


def make_feedback(
    run: dict[str, Any],
    *,
    feedback_id: str | None = None,
    key: str = "final_verdict",
    verdict: str = "PASS",
    true_factors: tuple[str, ...] = (),
    comment: str | None = None,
    created_at: datetime | None = None,
    modified_at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    created = created_at or datetime.fromisoformat(run["start_time"]) + timedelta(minutes=5)
    return {
        "id": feedback_id or new_id(),
        "run_id": run["id"],
        "trace_id": run["trace_id"],
        "key": key,
        "score": 1.0 if verdict == "PASS" else 0.0,
        "value": {"verdict": verdict, "rationale": {f: f in true_factors for f in FACTORS}},
        "comment": comment if comment is not None else f"Human verdict: {verdict}",
        "correction": None,
        "feedback_source": {"type": "api", "metadata": {}, "user_id": None},
        "created_at": _iso(created),
        "modified_at": _iso(modified_at or created),
        "session_id": None,
        "comparative_experiment_id": None,
        "feedback_group_id": None,
        "extra": None,
        **extra,
    }


def make_run(
    *,
    run_id: str | None = None,
    trace_id: str | None = None,
    parent_run_id: str | None = None,
    day: date = DAY,
    feedback: list[dict[str, Any]] | None = None,
    status: str | None = "auto",
    inputs: Any = None,
    outputs: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    """A stored run. `status="auto"`: fetched when feedback is a list, not_fetched when
    None; `status=None` with feedback=None builds an OLD-format line (no feedback keys)."""
    rid = run_id or new_id()
    start = datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)
    run: dict[str, Any] = {
        "id": rid,
        "name": "agent",
        "run_type": "chain",
        "trace_id": trace_id or rid,
        "parent_run_id": parent_run_id,
        "start_time": _iso(start),
        "end_time": _iso(start + timedelta(seconds=3)),
        "inputs": inputs if inputs is not None else {"question": "What is 2+2?"},
        "outputs": outputs if outputs is not None else {"answer": "4"},
        "error": None,
        "extra": {"metadata": {"env": "test"}},
        "tags": ["t"],
        "feedback_stats": None,
        "session_id": "sess-1",
        "dotted_order": f"{start:%Y%m%dT%H%M%S%fZ}{rid}",
        **extra,
    }
    if status == "auto":
        status = "fetched" if feedback is not None else "not_fetched"
    if status is not None:
        run["feedback_records"] = feedback
        run["feedback_fetch_status"] = status
        run["feedback_fetch_error"] = "HTTP 500 from /feedback" if status == "not_fetched" else None
    if feedback:
        run["feedback_stats"] = {"final_verdict": {"n": len(feedback), "avg": 1.0, "values": {}, "comments": []}}
    return run


def with_feedback(
    run: dict[str, Any], records: list[dict[str, Any]] | None, status: str | None = None
) -> dict[str, Any]:
    out = dict(run)
    out["feedback_records"] = records
    out["feedback_fetch_status"] = status or ("fetched" if records is not None else "not_fetched")
    return out


def write_day(
    settings: Settings,
    project: str,
    day: date,
    runs: list[dict[str, Any]],
    *,
    manifest: bool = True,
    raw_lines: list[str] | None = None,
) -> Path:
    """Write the day folder; `raw_lines` are appended verbatim (to plant odd lines)."""
    folder = day_dir(settings, project, day)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=True) for r in runs] + list(raw_lines or [])
    body = "".join(line + "\n" for line in lines)
    (folder / "runs.jsonl").write_text(body, encoding="utf-8")
    if manifest:
        m = Manifest(
            project=project,
            date=day,
            status="complete",
            counts=DayCounts(runs=len(lines), traces=len({r.get("trace_id") for r in runs})),
            fetch=FetchCounters(requests=3),
            duration_s=1.5,
            tool_version="test",
            fetched_at=datetime.now(UTC),
            runs_sha256=hashlib.sha256(body.encode()).hexdigest(),
        )
        (folder / "manifest.json").write_text(m.model_dump_json(indent=2), encoding="utf-8")
    return folder


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
