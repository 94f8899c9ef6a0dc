"""HTTP helpers of the write routes: JSON answers in the sandbox's wire format, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from lse.sandbox.langsmith.ledger import WriteError
from lse.sandbox.langsmith.wire import dumps


def answer(obj: Any, status: int = 200) -> Response:
    return Response(content=dumps(obj), status_code=status, media_type="application/json")


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise WriteError(422, "request body must be JSON") from exc
