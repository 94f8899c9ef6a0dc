"""The /v1/responses request body checked as the real API checks it: every top-level
parameter must be one the API knows (`Unknown parameter: 'x'.`, code `unknown_parameter`),
and each known one must have its JSON type (`Invalid type for 'x': expected an object,
but got a string instead.`, code `invalid_type`). The names and types are those of the
Responses API reference and the `openai` SDK's `ResponseCreateParams`; `reasoning`,
`text` and `tools` are checked one level deeper, where client mistakes usually are.

Vector stores: the sandbox has every vector store whose id starts with `vs_` (the real
prefix); a `file_search` tool naming any other id gets the 400 an unknown store gets.
"""

from __future__ import annotations

from typing import Any

from .errors import bad_request

_STR, _BOOL, _INT, _NUM, _OBJ, _ARR = "a string", "a boolean", "an integer", "a decimal", "an object", "an array"
# parameter -> accepted JSON types (None: any value, the sandbox does not look inside)
TOP_LEVEL: dict[str, tuple[str, ...] | None] = {
    "model": (_STR,),
    "input": (_STR, _ARR),
    "instructions": (_STR,),
    "max_output_tokens": (_INT,),
    "max_tool_calls": (_INT,),
    "temperature": (_NUM,),
    "top_p": (_NUM,),
    "top_logprobs": (_INT,),
    "reasoning": (_OBJ,),
    "text": (_OBJ,),
    "tools": (_ARR,),
    "tool_choice": (_STR, _OBJ),
    "parallel_tool_calls": (_BOOL,),
    "include": (_ARR,),
    "metadata": (_OBJ,),
    "store": (_BOOL,),
    "stream": (_BOOL,),
    "stream_options": (_OBJ,),
    "background": (_BOOL,),
    "previous_response_id": (_STR,),
    "conversation": (_STR, _OBJ),
    "prompt": (_OBJ,),
    "prompt_cache_key": (_STR,),
    "prompt_cache_retention": (_STR,),
    "safety_identifier": (_STR,),
    "service_tier": (_STR,),
    "truncation": (_STR,),
    "user": (_STR,),
    "context_management": (_ARR,),
    "access_programs": None,
    "background_options": None,
    "image": None,
    "moderation": None,
    "prompt_cache_options": None,
}
REASONING_KEYS = {"effort", "summary", "generate_summary"}
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SUMMARIES = ("auto", "concise", "detailed")
TEXT_KEYS = {"format", "verbosity"}
TOOL_TYPES = (
    "file_search",
    "function",
    "web_search",
    "web_search_preview",
    "mcp",
    "code_interpreter",
    "image_generation",
    "computer_use_preview",
    "local_shell",
    "custom",
)
FILE_SEARCH_KEYS = {"type", "vector_store_ids", "max_num_results", "ranking_options", "filters"}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _fits(value: Any, kind: str) -> bool:
    if kind == _STR:
        return isinstance(value, str)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == _OBJ:
        return isinstance(value, dict)
    return isinstance(value, list)


def _type_error(name: str, kinds: tuple[str, ...], value: Any) -> Exception:
    expected = kinds[0] if len(kinds) == 1 else "one of " + " or ".join(kinds)
    return bad_request(
        f"Invalid type for '{name}': expected {expected}, but got {_a(_json_type(value))} instead.",
        param=name,
        code="invalid_type",
    )


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _unknown(name: str) -> Exception:
    return bad_request(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")


def _invalid_value(name: str, value: Any, supported: tuple[str, ...]) -> Exception:
    return bad_request(
        f"Invalid value: '{value}'. Supported values are: {', '.join(repr(s) for s in supported)}.",
        param=name,
        code="invalid_value",
    )


def _check_reasoning(value: dict[str, Any]) -> None:
    for key in value:
        if key not in REASONING_KEYS:
            raise _unknown(f"reasoning.{key}")
    effort = value.get("effort")
    if effort is not None and effort not in EFFORTS:
        raise _invalid_value("reasoning.effort", effort, EFFORTS)
    summary = value.get("summary")
    if summary is not None and summary not in SUMMARIES:
        raise _invalid_value("reasoning.summary", summary, SUMMARIES)


def _check_text(value: dict[str, Any]) -> None:
    for key in value:
        if key not in TEXT_KEYS:
            raise _unknown(f"text.{key}")
    fmt = value.get("format")
    if fmt is not None and not isinstance(fmt, dict):
        raise _type_error("text.format", (_OBJ,), fmt)


def _check_tools(tools: list[Any]) -> None:
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise _type_error(where, (_OBJ,), tool)
        kind = tool.get("type")
        if kind not in TOOL_TYPES:
            raise _invalid_value(f"{where}.type", kind, TOOL_TYPES)
        if kind != "file_search":
            continue
        for key in tool:
            if key not in FILE_SEARCH_KEYS:
                raise _unknown(f"{where}.{key}")
        stores = tool.get("vector_store_ids")
        if stores is None:
            raise bad_request(
                f"Missing required parameter: '{where}.vector_store_ids'.",
                param=f"{where}.vector_store_ids",
                code="missing_required_parameter",
            )
        if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
            raise _type_error(f"{where}.vector_store_ids", (_ARR,), stores)
        for store in stores:
            if not store.startswith("vs_"):
                raise bad_request(
                    f"Vector store with id '{store}' not found.", param=f"{where}.vector_store_ids", code=None
                )
        limit = tool.get("max_num_results")
        if limit is not None and (not _fits(limit, _INT) or not 1 <= limit <= 50):
            raise bad_request(
                f"Invalid '{where}.max_num_results': expected an integer between 1 and 50.",
                param=f"{where}.max_num_results",
                code="invalid_value",
            )


def check_request_body(body: dict[str, Any]) -> None:
    """400 for the first unknown or wrongly typed parameter, as the real API answers."""
    for name, value in body.items():
        if name not in TOP_LEVEL:
            raise _unknown(name)
        kinds = TOP_LEVEL[name]
        if value is None or kinds is None:
            continue
        if not any(_fits(value, k) for k in kinds):
            raise _type_error(name, kinds, value)
    if isinstance(body.get("reasoning"), dict):
        _check_reasoning(body["reasoning"])
    if isinstance(body.get("text"), dict):
        _check_text(body["text"])
    if isinstance(body.get("tools"), list):
        _check_tools(body["tools"])
