"""Deterministic JSON for structured outputs (`text.format` of type json_schema / json_object).

An evaluation service asks models for JSON (judge scores, labels); the sandbox must return
JSON that parses and fits the schema, or `client.responses.parse(...)` fails. Values come from
the answer text, so they are stable per input: strings get the answer, numbers the
midpoint of their bounds, enums and unions their first option.
"""

from __future__ import annotations

import json
from typing import Any

_MAX_DEPTH = 12


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for key in ref[2:].split("/"):
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}
    return schema


def instance_for(schema: Any, answer: str, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A value that validates against `schema` (the subset structured outputs allow)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return answer
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for union in ("anyOf", "oneOf", "allOf"):
        if schema.get(union):
            return instance_for(schema[union][0], answer, root, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance_for(sub, answer, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [instance_for(schema.get("items", {}), answer, root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 10))
        mid = (low + high) / 2
        return int(mid) if kind == "integer" else mid
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return answer


def structured_text(text_config: Any, answer: str) -> str | None:
    """The JSON text to return for this `text` config, or None for plain text output."""
    if not isinstance(text_config, dict) or not isinstance(text_config.get("format"), dict):
        return None
    fmt = text_config["format"]
    if fmt.get("type") == "json_schema":
        return json.dumps(instance_for(fmt.get("schema", {}), answer))
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": answer})
    return None
