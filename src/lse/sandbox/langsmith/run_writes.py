"""Run creates and updates (POST /runs, PATCH /runs/{id}, and the two batch forms).

A posted run is stored in the shape `POST /runs/query` returns (`records.run_json`), in
its project (created on first use when named by `session_name`, as LangSmith does). The
checks are the ones a client can trip on the real server: a run id it already has (409,
"payloads already received"), a `dotted_order` that does not end with the run, an
unknown session id, parent run or reference example (404). Token counts and costs come
from `outputs.usage_metadata` (`input_tokens`, `output_tokens`, `input_cost`, …).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lse.sandbox.langsmith.ledger import Ledger, WriteError, as_uuid, ts
from lse.sandbox.langsmith.records import dotted_segment, run_json
from lse.sandbox.langsmith.wire import iso

RUN_TYPES = ("tool", "chain", "llm", "retriever", "embedding", "prompt", "parser")


def _usage(data: dict[str, Any], outputs: Any) -> None:
    usage = outputs.get("usage_metadata") if isinstance(outputs, dict) else None
    if not isinstance(usage, dict):
        return
    prompt, completion = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    data.update(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=int(usage.get("total_tokens") or prompt + completion),
    )
    details = usage.get("input_token_details")
    if isinstance(details, dict):
        data["prompt_token_details"] = details
    for source, field in (
        ("input_cost", "prompt_cost"),
        ("output_cost", "completion_cost"),
        ("total_cost", "total_cost"),
    ):
        if usage.get(source) is not None:
            data[field] = Decimal(str(usage[source]))


def _check_dotted(dotted: Any, run_id: str, parent: dict[str, Any] | None) -> str:
    if not isinstance(dotted, str) or not dotted.endswith(run_id):
        raise WriteError(400, f"dotted_order must end with the run id {run_id}, got {dotted!r}")
    parts = dotted.split(".")
    if parent is None and len(parts) != 1:
        raise WriteError(400, f"dotted_order must contain a single part for root runs for run_id:{run_id}")
    if parent is not None and ".".join(parts[:-1]) != parent["dotted_order"]:
        raise WriteError(400, f"dotted_order of {run_id} does not extend its parent's")
    return dotted


def create_run(ledger: Ledger, body: Any) -> str:
    """Store one posted run; returns its id."""
    if not isinstance(body, dict):
        raise WriteError(422, "a run must be a JSON object")
    run_id = as_uuid(body.get("id") or uuid.uuid4(), "id")
    with ledger.lock:
        if ledger.has_run(run_id):
            ledger.record_conflict(run_id)
            raise WriteError(409, "Conflict: payload already received: payloads already received")
        name, run_type = body.get("name"), body.get("run_type")
        if not isinstance(name, str) or not name:
            raise WriteError(422, "name is required")
        if run_type not in RUN_TYPES:
            raise WriteError(422, f"run_type must be one of {', '.join(RUN_TYPES)}, got {run_type!r}")
        if body.get("session_id"):
            project = ledger.project_by_id(as_uuid(body["session_id"], "session_id"))
        else:
            project = ledger.project(str(body.get("session_name") or "default"))
        parent = None
        if body.get("parent_run_id"):
            row = ledger.world.runs.get(as_uuid(body["parent_run_id"], "parent_run_id"))
            if row is None:
                raise WriteError(404, f"parent run {body['parent_run_id']} not found")
            parent = row.data
        example = body.get("reference_example_id")
        if example is not None:
            example = as_uuid(example, "reference_example_id")
            if example not in ledger.examples:
                raise WriteError(404, f"Example {example} not found")
        start = ts(body["start_time"], "start_time") if body.get("start_time") else datetime.now(UTC)
        start = start.replace(tzinfo=None) if start.tzinfo else start
        end = ts(body["end_time"], "end_time") if body.get("end_time") else None
        trace_id = as_uuid(body.get("trace_id") or (parent["trace_id"] if parent else run_id), "trace_id")
        raw_inputs, raw_outputs, raw_extra = body.get("inputs"), body.get("outputs"), body.get("extra")
        inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
        outputs: dict[str, Any] | None = raw_outputs if isinstance(raw_outputs, dict) else None
        extra: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
        data = run_json(
            run_id=run_id,
            name=name,
            run_type=run_type,
            start=start,
            end=end,
            trace_id=trace_id,
            parent=parent,
            session_id=project["id"],
            tenant_id=ledger.world.tenant_id,
            inputs=inputs,
            outputs=outputs,
            error=body.get("error"),
            tags=body.get("tags") if isinstance(body.get("tags"), list) else None,
            metadata=extra.get("metadata") if isinstance(extra.get("metadata"), dict) else None,
        )
        data["extra"] = {**extra, "metadata": data["extra"]["metadata"]}
        data["reference_example_id"] = example
        if body.get("dotted_order") is not None:
            data["dotted_order"] = _check_dotted(body["dotted_order"], run_id, parent)
        elif parent is None:
            data["dotted_order"] = dotted_segment(start, run_id)
        _usage(data, outputs)
        ledger.publish_run(project["name"], data)
        return run_id


def patch_run(ledger: Ledger, run_id: str, body: Any) -> None:
    if not isinstance(body, dict):
        raise WriteError(422, "a run update must be a JSON object")
    run_id = as_uuid(run_id, "run id")
    with ledger.lock:
        row = ledger.world.runs.get(run_id)
        if row is None:
            raise WriteError(404, f"Run {run_id} not found")
        data = row.data
        if body.get("end_time"):
            end = ts(body["end_time"], "end_time")
            row.end = end.replace(tzinfo=None) if end.tzinfo else end
            data["end_time"] = iso(end)
        for field in ("outputs", "error", "events", "tags"):
            if field in body and body[field] is not None:
                data[field] = body[field]
        if isinstance(body.get("extra"), dict):
            data["extra"] = {**(data.get("extra") or {}), **body["extra"]}
        data["status"] = "error" if data.get("error") else ("success" if data.get("end_time") else "pending")
        _usage(data, data.get("outputs"))


def apply_batch(ledger: Ledger, posts: list[Any], patches: list[Any]) -> list[str]:
    """Create then update; every run is tried, conflicts are returned (the caller answers 409)."""
    conflicts: list[str] = []
    for body in posts:
        try:
            create_run(ledger, body)
        except WriteError as exc:
            if exc.status != 409:
                raise
            conflicts.append(str(body.get("id")))
    for body in patches:
        if not isinstance(body, dict) or not body.get("id"):
            raise WriteError(422, "every patch needs the run id")
        patch_run(ledger, str(body["id"]), body)
    return conflicts
