"""The front door every request passes: tally it, inject the configured fault, check the
API key, then hand the request (body replayed) to the routes.

Faults come before auth, as a gateway or load balancer in front of LangSmith would
answer 429/5xx or drop connections without looking at credentials.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from lse.sandbox.langsmith.counters import Counters
from lse.sandbox.langsmith.faults import Action, FaultInjector, Faults
from lse.sandbox.langsmith.transport import ConnectionRegistry
from lse.sandbox.langsmith.wire import dumps

RATE_LIMIT_HTML = (
    b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
PREFIXES = ("/api/v1", "/api/v2")


def strip_prefix(path: str) -> str:
    for prefix in PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix) :] or "/"
    return path


def classify(path: str) -> str:
    """The request kind faults and counters are keyed by (`runs_query`: v1 and v2 alike)."""
    p = strip_prefix(path).rstrip("/")
    if p == "/info":
        return "info"
    if p == "/sessions" or p.startswith("/sessions/"):
        return "sessions"
    if p == "/runs/query":
        return "runs_query"
    if p.startswith("/runs/"):
        return "runs_get"
    if p == "/feedback" or p.startswith("/feedback/"):
        return "feedback"
    return "other"


def _summary(method: str, query: bytes, body: bytes) -> Any:
    if method == "GET" or not body:
        parsed = parse_qs(query.decode("latin-1"), keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}
    try:
        return json.loads(body)
    except ValueError:
        return {"_body_bytes": len(body)}


async def send_bytes(
    send: Callable, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Callable, status: int, obj: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send_bytes(send, status, dumps(obj), b"application/json", headers)


class Gateway:
    """ASGI middleware around the routes app."""

    def __init__(
        self,
        app: Any,
        *,
        api_key: str,
        counters: Counters,
        injector: FaultInjector,
        faults: Callable[[], Faults],
        connections: ConnectionRegistry,
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.counters = counters
        self.injector = injector
        self.faults = faults
        self.connections = connections

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        kind = classify(path)
        self.counters.record(method, path, kind, _summary(method, scope.get("query_string", b""), body))
        faults = self.faults()
        decision = self.injector.decide(faults, kind)
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.action is not Action.PASS and await self._inject(
            decision.action, decision.status, faults, scope, send
        ):
            return
        headers = dict(scope.get("headers") or [])
        if headers.get(b"x-api-key", b"").decode("latin-1") != self.api_key:
            self.counters.bump("unauthorized_sent")
            await send_json(send, 401, {"detail": "Invalid token: the x-api-key header is missing or wrong"})
            return

        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _inject(self, action: Action, status: int, faults: Faults, scope: dict, send: Callable) -> bool:
        """Answer (or drop) the request as the fault says; True when it was handled."""
        if action is Action.RESET:
            if self.connections.abort(scope.get("client")):
                self.counters.bump("resets_sent")
                # let uvicorn see the connection go before this app returns
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                return True
            return False
        if action is Action.RATE_LIMIT:
            self.counters.bump("rate_limited_sent")
            if faults.rate_limit_html:
                await send_bytes(send, 429, RATE_LIMIT_HTML, b"text/html")
            else:
                retry = f"{faults.retry_after_s:g}".encode()
                await send_json(
                    send, 429, {"detail": "Rate limit exceeded. Please retry later."}, [(b"retry-after", retry)]
                )
            return True
        self.counters.bump("errors_sent")
        messages = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            403: "Forbidden: this API key may not read feedback",
            504: "Gateway Timeout",
        }
        await send_json(send, status, {"detail": messages.get(status, f"sandbox fault {status}")})
        return True
