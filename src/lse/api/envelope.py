"""The Kaapi response envelope: {"success", "data", "error", "metadata"} on every response.

Errors keep their HTTP status. The machine-readable code leads the `error` text, as Kaapi
writes it (`"dataset_too_large_for_fast: dataset has 11 unique rows; …"`), so a Kaapi
client testing `code in error` matches; it is also in `metadata.code` (with `details`,
if any) for clients that branch on a field.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel

T = TypeVar("T")


class APIResponse(BaseModel, Generic[T]):
    success: bool
    data: T | None = None
    error: str | None = None
    metadata: dict[str, Any] | None = None


def ok(data: T, metadata: dict[str, Any] | None = None) -> APIResponse[T]:
    return APIResponse(success=True, data=data, error=None, metadata=metadata)


def error_response(
    status: int, message: str, code: str, details: object = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    metadata: dict[str, Any] = {"code": code}
    if details is not None:
        metadata["details"] = details
    text = message if message == code or message.startswith(f"{code}:") else f"{code}: {message}"
    return JSONResponse(
        status_code=status,
        content={"success": False, "data": None, "error": text, "metadata": metadata},
        headers=headers,
    )


def failure(data: Any, message: str, code: str) -> JSONResponse:
    """Kaapi's 200 answer that did not fully succeed: `success: false`, the object in `data`."""
    from fastapi.encoders import jsonable_encoder

    return JSONResponse(
        status_code=200,
        content={"success": False, "data": jsonable_encoder(data), "error": message, "metadata": {"code": code}},
    )
