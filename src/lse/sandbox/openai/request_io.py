"""Reading a request the way OpenAI does: bearer auth first, then a JSON object body."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from .errors import SandboxAPIError, bad_request


def require_auth(request: Request, api_key: str) -> None:
    """401 invalid_api_key unless `Authorization: Bearer <api_key>` is present and matches."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() != api_key:
        raise SandboxAPIError(
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or the 400 OpenAI sends for an unparseable body."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            f"HTTP library correctly. The OpenAI API expects a JSON payload.) Parser said: {exc}"
        ) from exc
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body
