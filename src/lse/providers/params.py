"""A config's completion params → the Responses request body: one mapping, one allowlist.

Params mean what they mean in Kaapi's `openai` provider, so one config behaves the same
on both: `reasoning: "low"` becomes `reasoning: {"effort": "low"}`; `temperature` and
`top_p` are dropped for reasoning models (o-series, gpt-5 family), which refuse them, and
`reasoning` is dropped for the others; `knowledge_base_ids` (+ `max_num_results`, 20 by
default) becomes a `file_search` tool over those vector stores. lse also allows
`top_p`, `max_output_tokens`, `text` (the output format) and `tools` holding `file_search`
tools only (Kaapi's documented config example writes the tool itself).

Nothing else reaches the provider: a tenant's config must not choose which organization
or project the operator's key bills (`extra_headers`), smuggle fields (`extra_body`,
`extra_query`), call tools or servers (function, MCP, web search …), run in the background, or read
other stored responses (`previous_response_id`, `conversation`, `prompt`). Any other
key is refused, naming it. A deployment may allow more Responses parameters
(`LSE_EVAL_EXTRA_RESPONSE_PARAMS`); those are sent as given, except the SDK's transport
options and the parameters the engine cannot honour (`NEVER`). The body's model is the
config's model, so the model billed is the model priced.

`responses_body(params)` is pure: the fast engine calls it for every call and batch mode
for every JSONL line, so both send the same request for the same config.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from lse.errors import ValidationFailed

PROVIDER = "openai"
ALLOWED: frozenset[str] = frozenset(
    {
        "model",
        "instructions",
        "temperature",
        "top_p",
        "max_output_tokens",
        "reasoning",
        "text",
        "knowledge_base_ids",
        "max_num_results",
        "tools",
    }
)
# Never sent, whatever the deployment allows: SDK transport options, the engine's own
# fields, and parameters that reach beyond one synchronous, stateless call.
NEVER: frozenset[str] = frozenset(
    {
        "extra_headers",
        "extra_query",
        "extra_body",
        "timeout",
        "input",
        "stream",
        "stream_options",
        "background",
        "previous_response_id",
        "conversation",
        "prompt",
    }
)
EFFORTS = ("minimal", "low", "medium", "high")
SUMMARIES = ("auto", "concise", "detailed")
VERBOSITY = ("low", "medium", "high")
FORMAT_TYPES = ("text", "json_object", "json_schema")
DEFAULT_MAX_NUM_RESULTS = 20
MAX_NUM_RESULTS = 50
MIN_OUTPUT_TOKENS = 16  # the API's own minimum
MAX_VECTOR_STORES = 16
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5)")


class ParamError(ValidationFailed):
    """A completion param that is not allowed or not valid; `details.param` names it."""

    code = "invalid_param"

    def __init__(self, param: str, message: str, *, code: str | None = None):
        super().__init__(f"config_blob.completion.params.{param}: {message}", code=code, details={"param": param})
        self.param = param


def is_reasoning_model(model: str) -> bool:
    """o-series and the gpt-5 family: they reason, and refuse temperature and top_p."""
    return bool(_REASONING_MODEL.match(model))


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParamError(name, "must be a number")
    if not low <= value <= high:
        raise ParamError(name, f"must be between {low:g} and {high:g} (got {value})")
    return value


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(name, "must be an integer")
    if not low <= value <= high:
        raise ParamError(name, f"must be between {low} and {high} (got {value})")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ParamError(name, "must be a string")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ParamError(name, f"must be one of {', '.join(choices)} (got {value!r})")
    return value


def _reasoning(value: Any) -> dict[str, str]:
    """Kaapi's "low" or the API's {"effort": "low", "summary": "auto"}."""
    if isinstance(value, str):
        return {"effort": _choice("reasoning", value, EFFORTS)}
    if not isinstance(value, dict):
        raise ParamError("reasoning", f"must be one of {', '.join(EFFORTS)} or an object {{effort, summary}}")
    unknown = sorted(set(value) - {"effort", "summary"})
    if unknown:
        raise ParamError(f"reasoning.{unknown[0]}", "is not an allowed parameter (allowed: effort, summary)")
    out = {}
    if value.get("effort") is not None:
        out["effort"] = _choice("reasoning.effort", value["effort"], EFFORTS)
    if value.get("summary") is not None:
        out["summary"] = _choice("reasoning.summary", value["summary"], SUMMARIES)
    return out


def _text_config(value: Any) -> dict[str, Any]:
    """{"format": {"type": text|json_object|json_schema, …}, "verbosity": …}."""
    if not isinstance(value, dict):
        raise ParamError("text", "must be an object {format, verbosity}")
    unknown = sorted(set(value) - {"format", "verbosity"})
    if unknown:
        raise ParamError(f"text.{unknown[0]}", "is not an allowed parameter (allowed: format, verbosity)")
    out: dict[str, Any] = {}
    if value.get("verbosity") is not None:
        out["verbosity"] = _choice("text.verbosity", value["verbosity"], VERBOSITY)
    fmt = value.get("format")
    if fmt is not None:
        if not isinstance(fmt, dict):
            raise ParamError("text.format", "must be an object with a type")
        kind = _choice("text.format.type", fmt.get("type"), FORMAT_TYPES)
        allowed = {"type"} | ({"name", "schema", "strict", "description"} if kind == "json_schema" else set())
        extra = sorted(set(fmt) - allowed)
        if extra:
            raise ParamError(f"text.format.{extra[0]}", f"is not allowed for format type {kind!r}")
        if kind == "json_schema":
            _text("text.format.name", fmt.get("name"))
            if not isinstance(fmt.get("schema"), dict):
                raise ParamError("text.format.schema", "must be a JSON Schema object")
            if "strict" in fmt and not isinstance(fmt["strict"], bool):
                raise ParamError("text.format.strict", "must be true or false")
            if "description" in fmt:
                _text("text.format.description", fmt["description"])
        out["format"] = dict(fmt)
    return out


def _vector_stores(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_VECTOR_STORES:
        raise ParamError("knowledge_base_ids", f"must be a list of 1 to {MAX_VECTOR_STORES} vector store ids")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ParamError(f"knowledge_base_ids[{i}]", "must be a non-empty vector store id")
    return list(value)


FILE_SEARCH_KEYS = frozenset({"type", "vector_store_ids", "max_num_results"})


def _file_search_tools(value: Any) -> list[dict[str, Any]]:
    """`tools` as Kaapi's config example writes them: file_search tools and nothing else."""
    if not isinstance(value, list):
        raise ParamError("tools", "must be a list of file_search tools")
    out = []
    for i, tool in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise ParamError(where, "must be an object")
        if tool.get("type") != "file_search":
            raise ParamError(
                f"{where}.type",
                f"only file_search tools are allowed (got {tool.get('type')!r})",
                code="param_not_allowed",
            )
        extra = sorted(set(tool) - FILE_SEARCH_KEYS)
        if extra:
            raise ParamError(f"{where}.{extra[0]}", "is not an allowed file_search field", code="param_not_allowed")
        stores = tool.get("vector_store_ids")
        if not isinstance(stores, list) or not stores or len(stores) > MAX_VECTOR_STORES:
            raise ParamError(
                f"{where}.vector_store_ids", f"must be a list of 1 to {MAX_VECTOR_STORES} vector store ids"
            )
        for j, store in enumerate(stores):
            if not isinstance(store, str) or not store.strip():
                raise ParamError(f"{where}.vector_store_ids[{j}]", "must be a non-empty vector store id")
        entry: dict[str, Any] = {"type": "file_search", "vector_store_ids": list(stores)}
        if tool.get("max_num_results") is not None:
            entry["max_num_results"] = _integer(f"{where}.max_num_results", tool["max_num_results"], 1, MAX_NUM_RESULTS)
        out.append(entry)
    return out


def extra_params(setting: str | Collection[str] | None) -> frozenset[str]:
    """The deployment's extra allowed names (LSE_EVAL_EXTRA_RESPONSE_PARAMS), NEVER removed."""
    if not setting:
        return frozenset()
    names = setting.split(",") if isinstance(setting, str) else setting
    return frozenset(n.strip() for n in names if n.strip()) - NEVER


def responses_body(
    params: Mapping[str, Any], *, input: Any = None, extra_allowed: Collection[str] = ()
) -> dict[str, Any]:
    """The Responses `create` body for these completion params (with `input` if given).

    Raises ParamError naming the first parameter that is not allowed or not valid.
    """
    if not isinstance(params, Mapping):
        raise ParamError("params", "must be an object")
    extras = extra_params(extra_allowed)
    for name in params:
        if name not in ALLOWED and name not in extras:
            hint = (
                "it is never sent to the provider"
                if name in NEVER
                else f"allowed: {', '.join(sorted(ALLOWED))}; a deployment may allow more "
                "Responses parameters with LSE_EVAL_EXTRA_RESPONSE_PARAMS"
            )
            raise ParamError(
                name, f"is not an allowed parameter for provider {PROVIDER!r} ({hint})", code="param_not_allowed"
            )
    model = params.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ParamError("model", "is required: the model name, e.g. gpt-4o-mini")
    reasons = is_reasoning_model(model)
    body: dict[str, Any] = {"model": model}
    if params.get("instructions") is not None:
        body["instructions"] = _text("instructions", params["instructions"])
    temperature = params.get("temperature")
    if temperature is not None:
        _number("temperature", temperature, 0, 2)
        if not reasons:
            body["temperature"] = temperature
    top_p = params.get("top_p")
    if top_p is not None:
        _number("top_p", top_p, 0, 1)
        if not reasons:
            body["top_p"] = top_p
    if params.get("reasoning") is not None:
        reasoning = _reasoning(params["reasoning"])
        if reasons and reasoning:
            body["reasoning"] = reasoning
    if params.get("max_output_tokens") is not None:
        body["max_output_tokens"] = _integer("max_output_tokens", params["max_output_tokens"], MIN_OUTPUT_TOKENS, 10**7)
    if params.get("text") is not None:
        text = _text_config(params["text"])
        if text:
            body["text"] = text
    max_results = params.get("max_num_results")
    if max_results is not None:
        _integer("max_num_results", max_results, 1, MAX_NUM_RESULTS)
    tools = _file_search_tools(params["tools"]) if params.get("tools") is not None else []
    if params.get("knowledge_base_ids") is not None:
        tools.append(
            {
                "type": "file_search",
                "vector_store_ids": _vector_stores(params["knowledge_base_ids"]),
                "max_num_results": max_results or DEFAULT_MAX_NUM_RESULTS,
            }
        )
    if tools:
        body["tools"] = tools
    for name in sorted(extras & set(params)):
        if name not in ALLOWED and params[name] is not None:
            body[name] = params[name]
    if input is not None:
        body["input"] = input
    return body
