"""Write routes the `langsmith` SDK uses for experiments: projects, runs (single, batch,
multipart), feedback. Served at the root and under /api/v1, as the read routes are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from lse.sandbox.langsmith import multipart_io
from lse.sandbox.langsmith.examples_routes import build_examples_router
from lse.sandbox.langsmith.ledger import Ledger, WriteError, as_uuid, ledger_of, now_iso, ts
from lse.sandbox.langsmith.run_writes import apply_batch, create_run, patch_run
from lse.sandbox.langsmith.wire import iso
from lse.sandbox.langsmith.world import World
from lse.sandbox.langsmith.write_http import answer, json_body

SESSION_FIELDS = {
    "name",
    "extra",
    "description",
    "id",
    "reference_dataset_id",
    "num_examples",
    "num_repetitions",
    "evaluator_keys",
    "tag_value_ids",
    "default_dataset_id",
    "trace_tier",
    "start_time",
    "end_time",
}
FEEDBACK_UPDATE_FIELDS = {"score", "value", "correction", "comment", "feedback_config"}


def _session_out(ledger: Ledger, project: dict[str, Any]) -> dict[str, Any]:
    return {**project, "tenant_id": ledger.world.tenant_id}


def _feedback_record(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise WriteError(422, "key is required")
    if not body.get("session_id"):
        # The SDK warns that feedback without session_id "will stop working"; here it already does.
        raise WriteError(422, "session_id is required: name the project (session) the feedback belongs to")
    run = None
    if body.get("run_id"):
        row = ledger.world.runs.get(as_uuid(body["run_id"], "run_id"))
        if row is None:
            raise WriteError(404, f"Run {body['run_id']} not found")
        run = row.data
    stamp = now_iso()
    raw_source = body.get("feedback_source")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {"type": "api"}
    return {
        "id": as_uuid(body.get("id"), "id"),
        "created_at": stamp,
        "modified_at": stamp,
        "session_id": run["session_id"] if run else body.get("session_id"),
        "run_id": run["id"] if run else None,
        "trace_id": run["trace_id"] if run else body.get("trace_id"),
        "start_time": run["start_time"] if run else None,
        "key": key,
        "score": body.get("score"),
        "value": body.get("value"),
        "comment": body.get("comment"),
        "correction": body.get("correction"),
        "feedback_group_id": body.get("feedback_group_id"),
        "comparative_experiment_id": body.get("comparative_experiment_id"),
        "feedback_source": {"type": source.get("type", "api"), "metadata": source.get("metadata") or {}},
        "extra": body.get("extra"),
        "feedback_thread_id": None,
    }


def build_write_router(ledger: Ledger) -> APIRouter:
    router = APIRouter()

    @router.post("/sessions")
    async def create_session(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise WriteError(422, "name is required")
        unknown = sorted(set(body) - SESSION_FIELDS)
        if unknown:
            raise WriteError(422, f"unknown field(s): {', '.join(unknown)}")
        upsert = request.query_params.get("upsert", "false").lower() == "true"
        dataset_id = body.get("reference_dataset_id")
        if dataset_id is not None:
            dataset_id = ledger.dataset(as_uuid(dataset_id, "reference_dataset_id"))["id"]
        with ledger.lock:
            exists = body["name"] in ledger.world.projects
            if exists and not upsert:
                raise WriteError(409, "Session already exists.")
            project = ledger.project(body["name"])
            if not exists or upsert:
                if body.get("description") is not None:
                    project["description"] = body["description"]
                if isinstance(body.get("extra"), dict):
                    project["extra"] = body["extra"]
                if dataset_id is not None:
                    project["reference_dataset_id"] = dataset_id
            return answer(_session_out(ledger, project))

    @router.patch("/sessions/{session_id}")
    async def update_session(session_id: str, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise WriteError(422, "request body must be a JSON object")
        with ledger.lock:
            project = ledger.project_by_id(as_uuid(session_id, "session id"))
            for field in ("description", "extra"):
                if body.get(field) is not None:
                    project[field] = body[field]
            if body.get("end_time"):
                project["end_time"] = iso(ts(body["end_time"], "end_time"))
            if body.get("name") and body["name"] != project["name"]:
                raise WriteError(422, "the sandbox does not rename projects")
            return answer(_session_out(ledger, project))

    @router.post("/runs")
    async def post_run(request: Request) -> Response:
        run_id = create_run(ledger, await json_body(request))
        return answer({"message": "Run created", "id": run_id}, 202)

    @router.patch("/runs/{run_id}")
    async def update_run(run_id: str, request: Request) -> Response:
        patch_run(ledger, run_id, await json_body(request))
        return answer({"message": "Run updated"}, 202)

    @router.post("/runs/batch")
    async def batch(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise WriteError(422, "body must be {post: [...], patch: [...]}")
        conflicts = apply_batch(ledger, list(body.get("post") or []), list(body.get("patch") or []))
        if conflicts:
            raise WriteError(409, f"Conflict: payload already received: {', '.join(conflicts)}")
        return answer({"message": "Runs batch ingested"}, 202)

    @router.post("/runs/multipart")
    async def multipart(request: Request) -> Response:
        raw = multipart_io.decode(await request.body(), request.headers.get("content-encoding", ""))
        grouped = multipart_io.group(
            multipart_io.parts(raw, request.headers.get("content-type", "")), with_operation=True
        )
        ops: dict[str, list[dict[str, Any]]] = {"post": [], "patch": [], "feedback": []}
        for (operation, obj_id), fields in grouped.items():
            if operation not in ops:
                raise WriteError(422, f"unknown multipart operation {operation!r}")
            main = dict(fields.pop("", None) or {})
            main.update(fields)
            main.setdefault("id", obj_id)
            ops[operation].append(main)
        conflicts = apply_batch(ledger, ops["post"], ops["patch"])
        for body in ops["feedback"]:
            ledger.publish_feedback(_feedback_record(ledger, body))
        if conflicts:
            raise WriteError(409, f"Conflict: payload already received: {', '.join(conflicts)}")
        return answer({"message": "Runs ingested"}, 202)

    @router.post("/feedback")
    async def create_feedback(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise WriteError(422, "request body must be a JSON object")
        record = _feedback_record(ledger, body)
        ledger.publish_feedback(record)
        return answer(record)

    @router.patch("/feedback/{feedback_id}")
    async def update_feedback(feedback_id: str, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) - FEEDBACK_UPDATE_FIELDS:
            raise WriteError(422, f"a feedback update takes only {', '.join(sorted(FEEDBACK_UPDATE_FIELDS))}")
        fid = as_uuid(feedback_id, "feedback id")
        with ledger.lock:
            record = ledger.world.feedback.get(fid)
            if record is None:
                raise WriteError(404, f"Feedback {feedback_id} not found")
            record.update({k: v for k, v in body.items() if k != "feedback_config"}, modified_at=now_iso())
            ledger.feedback_updates.append((fid, dict(body)))
            if record.get("run_id"):
                ledger.world._restat(record["run_id"])
            return answer(record)

    return router


def install_write_routes(app: FastAPI, world: World) -> None:
    """Mount the write routes (and their error answers) on the sandbox's routes app."""
    ledger = ledger_of(world)
    for router in (build_write_router(ledger), build_examples_router(ledger)):
        app.include_router(router)
        app.include_router(router, prefix="/api/v1")

    @app.exception_handler(WriteError)
    async def write_error(request: Request, exc: WriteError) -> Response:
        return answer({"detail": exc.detail}, exc.status)
