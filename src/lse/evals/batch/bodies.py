"""What one request line says: its custom_id, and the body built from the config's params.

The body builder is passed in (`BodyFn`): batch mode must map params exactly as fast mode
sends them. The default, `responses_body`, is fast mode's own mapping
(`lse.providers.params.responses_body`: Kaapi's params, the allowlist, None dropped) with
the item's question as `input`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lse.providers import params as provider_params

BodyFn = Callable[[dict[str, Any], str], dict[str, Any]]

_CUSTOM_ID = re.compile(r"^lse-r(\d+)-i(\d+)-a(\d+)$")


def custom_id(run_id: int, item_id: int, attempt: int) -> str:
    """Unique within a batch (one line per item) and across a run's rounds (the attempt)."""
    return f"lse-r{run_id}-i{item_id}-a{attempt}"


def parse_custom_id(value: str) -> tuple[int, int, int] | None:
    """(run_id, item_id, attempt) of one of our custom_ids, else None."""
    m = _CUSTOM_ID.match(value)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def responses_body(params: dict[str, Any], question: str) -> dict[str, Any]:
    return provider_params.responses_body(params, input=question)


def request_line(cid: str, endpoint: str, body: dict[str, Any]) -> bytes:
    line = {"custom_id": cid, "method": "POST", "url": endpoint, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def estimate_tokens(line: bytes) -> int:
    """A generous input-token estimate (one per 4 bytes of the whole line): over, never under."""
    return (len(line) + 3) // 4
