"""The Kaapi response envelope: {"success", "data", "error", "metadata"} on every response.

Errors keep their HTTP status; the machine-readable code (and details, if any) travel in
`metadata`, so clients can branch on `metadata.code` while `error` stays a sentence.
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
    return JSONResponse(
        status_code=status,
        content={"success": False, "data": None, "error": message, "metadata": metadata},
        headers=headers,
    )
