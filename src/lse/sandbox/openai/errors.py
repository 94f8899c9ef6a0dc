"""OpenAI's error envelope, `{"error": {"message", "type", "param", "code"}}`, as an exception.

Route code raises `SandboxAPIError`; one handler in app.py turns it into the JSON body and
headers the SDK parses into `BadRequestError`, `RateLimitError` and friends (`exc.code`,
`exc.type`, `exc.param` come straight from these fields).
"""

from __future__ import annotations

import math

from fastapi.responses import JSONResponse


class SandboxAPIError(Exception):
    """An HTTP error in OpenAI's wire format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def to_response(self, extra_headers: dict[str, str] | None = None) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers={**(extra_headers or {}), **self.headers})


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> SandboxAPIError:
    return SandboxAPIError(400, message, param=param, code=code)


def retry_after_headers(wait_s: float) -> dict[str, str]:
    """Both headers the SDK reads (it prefers the millisecond one); seconds are rounded up."""
    ms = max(1, math.ceil(wait_s * 1000))
    return {"retry-after-ms": str(ms), "retry-after": str(max(1, math.ceil(ms / 1000)))}


def insufficient_quota() -> SandboxAPIError:
    return SandboxAPIError(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


def server_error(status: int) -> SandboxAPIError:
    if status == 503:
        return SandboxAPIError(503, "The server is overloaded or not ready yet.", type="server_error")
    return SandboxAPIError(
        status,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )
