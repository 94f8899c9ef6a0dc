"""Abrupt connection resets for the `reset_every` fault.

An ASGI app cannot reach its socket, so the sandbox runs uvicorn with an h11 protocol
subclass that registers each connection's transport by peer address. The gateway looks
the transport up by `scope["client"]`, sets SO_LINGER to 0 and aborts it: the kernel
sends a TCP RST and the client sees "connection reset by peer" with no HTTP response.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

Peer = tuple[str, int]


class ConnectionRegistry:
    """Live transports by peer address, for aborting the one serving a request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_peer: dict[Peer, asyncio.Transport] = {}

    def add(self, peer: Peer | None, transport: asyncio.Transport) -> None:
        if peer is not None:
            with self._lock:
                self._by_peer[tuple(peer)] = transport  # type: ignore[index]

    def remove(self, peer: Peer | None) -> None:
        if peer is not None:
            with self._lock:
                self._by_peer.pop(tuple(peer), None)  # type: ignore[arg-type]

    def abort(self, peer: Any) -> bool:
        """Reset the connection to `peer`; False if it is already gone."""
        with self._lock:
            transport = self._by_peer.pop(tuple(peer), None) if peer else None
        if transport is None:
            return False
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return True


def protocol_class(registry: ConnectionRegistry) -> type[H11Protocol]:
    """An h11 protocol class that reports its connections to `registry`."""

    class SandboxH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            registry.add(self.client, transport)

        def connection_lost(self, exc: Exception | None) -> None:
            registry.remove(self.client)
            super().connection_lost(exc)

    return SandboxH11Protocol
