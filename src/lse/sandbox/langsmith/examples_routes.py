"""Datasets and examples as the SDK writes and reads them.

Dataset names are unique (a second POST with the same name is a 409, as on LangSmith);
examples are created and updated through the multipart platform endpoints the SDK uses
when the server advertises them, and listed with `GET /examples?dataset=…` (offset
pages). Creating an example whose id exists is a 409; updating one that does not is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lse.sandbox.langsmith import multipart_io
from lse.sandbox.langsmith.ledger import Ledger, WriteError, as_uuid, now_iso
from lse.sandbox.langsmith.write_http import answer, json_body

DATASET_FIELDS = {
    "name",
    "description",
    "data_type",
    "transformations",
    "extra",
    "inputs_schema_definition",
    "outputs_schema_definition",
    "tag_value_ids",
    "id",
    "externally_managed",
}
EXAMPLE_FIELDS = {"inputs", "outputs", "metadata", "split", "created_at", "source_run_id", "dataset_id"}
EXAMPLE_PARAMS = {
    "dataset",
    "id",
    "offset",
    "limit",
    "as_of",
    "splits",
    "inline_s3_urls",
    "metadata",
    "filter",
    "select",
    "exclude_default_fields",
}


def _int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    try:
        value = int(raw) if raw is not None else default
    except ValueError as exc:
        raise WriteError(422, f"{name} must be an integer") from exc
    if not 0 <= value <= high:
        raise WriteError(422, f"{name} must be between 0 and {high}")
    return value


def _example_body(ledger: Ledger, dataset_id: str, example_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    main = fields.get("") or {}
    unknown = sorted(set(main) - EXAMPLE_FIELDS)
    if unknown:
        raise WriteError(422, f"unknown example field(s): {', '.join(unknown)}")
    stamp = now_iso()
    return {
        "id": as_uuid(example_id, "example id"),
        "dataset_id": dataset_id,
        "inputs": fields.get("inputs"),
        "outputs": fields.get("outputs"),
        "metadata": main.get("metadata"),
        "split": main.get("split"),
        "source_run_id": main.get("source_run_id"),
        "created_at": main.get("created_at") or stamp,
        "modified_at": stamp,
        "attachment_urls": None,
    }


def build_examples_router(ledger: Ledger) -> APIRouter:
    router = APIRouter()

    @router.post("/datasets")
    async def create_dataset(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise WriteError(422, "name is required")
        unknown = sorted(set(body) - DATASET_FIELDS)
        if unknown:
            raise WriteError(422, f"unknown field(s): {', '.join(unknown)}")
        with ledger.lock:
            if any(d["name"] == body["name"] for d in ledger.datasets.values()):
                raise WriteError(409, f"Dataset with name {body['name']!r} already exists")
            stamp = now_iso()
            raw_extra = body.get("extra")
            extra: dict[str, Any] = raw_extra if isinstance(raw_extra, dict) else {}
            dataset = {
                "id": as_uuid(body.get("id") or uuid.uuid4(), "id"),
                "name": body["name"],
                "description": body.get("description"),
                "data_type": body.get("data_type") or "kv",
                "created_at": stamp,
                "modified_at": stamp,
                "tenant_id": ledger.world.tenant_id,
                "example_count": 0,
                "session_count": 0,
                "last_session_start_time": None,
                "inputs_schema_definition": body.get("inputs_schema_definition"),
                "outputs_schema_definition": body.get("outputs_schema_definition"),
                "transformations": body.get("transformations"),
                "metadata": extra.get("metadata"),
            }
            ledger.datasets[dataset["id"]] = dataset
            return answer(dataset)

    @router.get("/datasets")
    async def list_datasets(request: Request) -> Response:
        limit, offset = _int(request, "limit", 100, 100), _int(request, "offset", 0, 10**9)
        names = request.query_params.getlist("name")
        ids = {i.lower() for i in request.query_params.getlist("id")}
        contains = request.query_params.get("name_contains")
        with ledger.lock:
            rows = [
                dict(d)
                for d in ledger.datasets.values()
                if (not names or d["name"] in names)
                and (not ids or d["id"] in ids)
                and (contains is None or contains in d["name"])
            ]
        rows.sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)
        return answer(rows[offset : offset + limit])

    @router.get("/datasets/{dataset_id}")
    async def read_dataset(dataset_id: str) -> Response:
        with ledger.lock:
            return answer(dict(ledger.dataset(as_uuid(dataset_id, "dataset id"))))

    @router.post("/v1/platform/datasets/{dataset_id}/examples")
    @router.post("/platform/datasets/{dataset_id}/examples")
    async def create_examples(dataset_id: str, request: Request) -> Response:
        dataset_id = as_uuid(dataset_id, "dataset id")
        grouped = multipart_io.group(
            multipart_io.parts(await request.body(), request.headers.get("content-type", "")), with_operation=False
        )
        with ledger.lock:
            ledger.dataset(dataset_id)
            new = [_example_body(ledger, dataset_id, obj_id, fields) for (_, obj_id), fields in grouped.items()]
            taken = [e["id"] for e in new if e["id"] in ledger.examples]
            if taken:
                raise WriteError(409, f"Example(s) already exist: {', '.join(taken)}")
            for example in new:
                ledger.examples[example["id"]] = example
            ledger.refresh_dataset(dataset_id)
            return answer({"example_ids": [e["id"] for e in new], "count": len(new), "as_of": now_iso()}, 201)

    @router.patch("/v1/platform/datasets/{dataset_id}/examples")
    @router.patch("/platform/datasets/{dataset_id}/examples")
    async def update_examples(dataset_id: str, request: Request) -> Response:
        dataset_id = as_uuid(dataset_id, "dataset id")
        grouped = multipart_io.group(
            multipart_io.parts(await request.body(), request.headers.get("content-type", "")), with_operation=False
        )
        with ledger.lock:
            ledger.dataset(dataset_id)
            updates = [_example_body(ledger, dataset_id, obj_id, fields) for (_, obj_id), fields in grouped.items()]
            for upd in updates:
                old = ledger.examples.get(upd["id"])
                if old is None or old["dataset_id"] != dataset_id:
                    raise WriteError(404, f"Example {upd['id']} not found in dataset {dataset_id}")
            for upd in updates:
                old = ledger.examples[upd["id"]]
                for field in ("inputs", "outputs", "metadata", "split"):
                    if upd[field] is not None:
                        old[field] = upd[field]
                old["modified_at"] = upd["modified_at"]
            ledger.refresh_dataset(dataset_id)
            return answer({"example_ids": [u["id"] for u in updates], "count": len(updates), "as_of": now_iso()})

    @router.get("/examples")
    async def list_examples(request: Request) -> Response:
        unknown = sorted(set(request.query_params) - EXAMPLE_PARAMS)
        if unknown:
            raise WriteError(422, f"unknown query parameter(s): {', '.join(unknown)}")
        if request.query_params.get("filter") or request.query_params.get("metadata"):
            raise WriteError(422, "the sandbox does not filter examples by metadata")
        limit, offset = _int(request, "limit", 100, 100), _int(request, "offset", 0, 10**9)
        dataset = request.query_params.get("dataset")
        ids = {as_uuid(i, "id") for i in request.query_params.getlist("id")}
        with ledger.lock:
            rows = [
                dict(e)
                for e in ledger.examples.values()
                if (dataset is None or e["dataset_id"] == as_uuid(dataset, "dataset")) and (not ids or e["id"] in ids)
            ]
        rows.sort(key=lambda e: (e["created_at"], e["id"]))
        return answer(rows[offset : offset + limit])

    return router
