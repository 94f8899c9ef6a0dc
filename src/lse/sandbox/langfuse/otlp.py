"""OTLP/HTTP trace export → Langfuse observations, the way Langfuse reads the SDK's spans.

The Langfuse SDK exports OpenTelemetry spans as protobuf `ExportTraceServiceRequest`,
gzip-compressed by default, to /api/public/otel/v1/traces. Each span becomes one
observation: ids are the hex span and trace ids, the type and payload come from the
`langfuse.*` attributes the SDK sets (input/output as JSON strings, metadata one attribute
per key, usage and cost details as JSON objects), experiment linkage from
`langfuse.experiment.*`. A span whose parent is remote or that carries the SDK's root
markers is a root observation.
"""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from lse.sandbox.langfuse.state import PROJECT_ID, SandboxError

OBS = "langfuse.observation."
META = "langfuse.observation.metadata"
TRACE_META = "langfuse.trace.metadata"
EXPERIMENT = "langfuse.experiment."
ROOT_MARKERS = ("langfuse.internal.as_root", "langfuse.internal.is_app_root")
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")


def response_bytes() -> bytes:
    return ExportTraceServiceResponse().SerializeToString()


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def _json_or_raw(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _time(nanos: int) -> datetime | None:
    return datetime.fromtimestamp(nanos / 1e9, tz=UTC) if nanos else None


def decode_body(body: bytes, content_type: str, content_encoding: str) -> ExportTraceServiceRequest:
    encoding = (content_encoding or "").strip().lower()
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding not in ("", "identity"):
            raise SandboxError(415, f"unsupported Content-Encoding {encoding!r}; send gzip or none")
    except (OSError, zlib.error) as exc:
        raise SandboxError(400, f"body is not valid {encoding}: {exc}") from exc
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in PROTOBUF_TYPES:
        raise SandboxError(415, f"the sandbox decodes OTLP protobuf only (got Content-Type {mime or 'none'!r})")
    try:
        return ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise SandboxError(400, f"body is not an OTLP ExportTraceServiceRequest: {exc}") from exc


def _metadata(attrs: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    if prefix in attrs:  # metadata that was not a dict: one JSON value
        return {"metadata": _json_or_raw(attrs[prefix])}
    found = {k[len(prefix) + 1 :]: _json_or_raw(v) for k, v in attrs.items() if k.startswith(prefix + ".")}
    return found or None


def _experiment(attrs: dict[str, Any]) -> dict[str, Any] | None:
    if EXPERIMENT + "id" not in attrs:
        return None
    return {
        "id": attrs.get(EXPERIMENT + "id"),
        "name": attrs.get(EXPERIMENT + "name"),
        "description": attrs.get(EXPERIMENT + "description"),
        "metadata": _json_or_raw(attrs.get(EXPERIMENT + "metadata")),
        "datasetId": attrs.get(EXPERIMENT + "dataset.id"),
        "itemId": attrs.get(EXPERIMENT + "item.id"),
        "itemVersion": attrs.get(EXPERIMENT + "item.version"),
        "itemExpectedOutput": attrs.get(EXPERIMENT + "item.expected_output"),
        "itemMetadata": _json_or_raw(attrs.get(EXPERIMENT + "item.metadata")),
        "itemRootObservationId": attrs.get(EXPERIMENT + "item.root_observation_id"),
    }


def _details(attrs: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = _json_or_raw(attrs.get(OBS + key))
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, (int, float)) for v in value.values()):
        raise SandboxError(400, f"{OBS}{key} must be a JSON object of numbers (got {attrs.get(OBS + key)!r})")
    return value


def observations(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """One observation per span, in the order received."""
    out: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise SandboxError(400, "span trace_id must be 16 bytes and span_id 8 bytes")
                attrs = {kv.key: _value(kv.value) for kv in span.attributes}
                parent = span.parent_span_id.hex() or None
                cost = _details(attrs, "cost_details")
                obs_type = str(attrs.get(OBS + "type") or "span").upper()
                out.append(
                    {
                        "id": span.span_id.hex(),
                        "traceId": span.trace_id.hex(),
                        "projectId": PROJECT_ID,
                        "parentObservationId": parent,
                        "isRootObservation": parent is None or any(attrs.get(m) is True for m in ROOT_MARKERS),
                        "type": obs_type,
                        "name": span.name,
                        "startTime": _time(span.start_time_unix_nano),
                        "endTime": _time(span.end_time_unix_nano),
                        "completionStartTime": attrs.get(OBS + "completion_start_time"),
                        "input": attrs.get(OBS + "input"),
                        "output": attrs.get(OBS + "output"),
                        "metadata": _metadata(attrs, META),
                        "traceMetadata": _metadata(attrs, TRACE_META),
                        "traceName": attrs.get("langfuse.trace.name"),
                        "userId": attrs.get("user.id"),
                        "sessionId": attrs.get("session.id"),
                        "tags": attrs.get("langfuse.trace.tags"),
                        "level": attrs.get(OBS + "level") or "DEFAULT",
                        "statusMessage": attrs.get(OBS + "status_message"),
                        "version": attrs.get("langfuse.version"),
                        "environment": attrs.get("langfuse.environment")
                        or resource.get("deployment.environment")
                        or "default",
                        "model": attrs.get(OBS + "model.name"),
                        "modelParameters": _json_or_raw(attrs.get(OBS + "model.parameters")),
                        "usageDetails": _details(attrs, "usage_details"),
                        "costDetails": cost,
                        "totalCost": (cost.get("total", sum(cost.values())) if cost else None),
                        "experiment": _experiment(attrs),
                    }
                )
    return out
