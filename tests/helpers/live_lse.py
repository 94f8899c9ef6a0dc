"""`lse serve` as an operator starts it — a real process on loopback — for tests that must
see what a client sees: raw HTTP, status codes, the server's memory, its files.

`start_live_lse(data_dir, **env)` starts one and waits until it answers; `live_lse` is a
session-wide one (SQLite, a session OpenAI sandbox, an `LSE_SECRET_KEY`) that tests share
by each creating their own organization (`LiveLse.new_key()`), so nothing leaks between
them. `raw_request` speaks HTTP/1.1 on a socket, so a test can send headers and part of
a body and see whether the server answers before the body is complete.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from helpers.cli import LSE, lse_env
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings
from lse.tenancy import create_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveLse:
    base_url: str
    port: int
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen
    keys: list[str] = field(default_factory=list)

    def new_key(self, org: str | None = None, project: str = "p") -> str:
        """A key of a new organization, made on the server's database (as `lse admin
        create-key` would, without paying for a process per key)."""
        key = create_key(self.settings(), org or f"org-{uuid.uuid4().hex[:8]}", project).api_key
        self.keys.append(key)
        return key

    def client(self, key: str | None = None, **kwargs) -> httpx.Client:
        headers = {"X-API-KEY": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs)

    def rss_kb(self) -> int:
        """Resident memory of the server process (uvicorn runs inside `lse serve`)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def settings(self) -> Settings:
        """Settings on the server's own database and files (to assert on what it stored)."""
        return Settings(
            data_dir=self.data_dir,
            database_url=self.env.get("LSE_DATABASE_URL") or None,
            secret_key=self.env.get("LSE_SECRET_KEY") or None,
        )

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"lse-serve-{self.port}.log"

    def stop(self) -> str:
        """Stop the server; the tail of its log (stdout and stderr)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.log_path.read_text(errors="replace")[-20_000:]


def start_live_lse(data_dir: Path, **env: str) -> LiveLse:
    port = free_port()
    full_env = lse_env(LSE_DATA_DIR=str(data_dir), **env)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # a log file, not a pipe: a pipe nobody drains fills up and blocks the server's event loop
    with (data_dir.parent / f"lse-serve-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            [LSE, "serve", "--host", "127.0.0.1", "--port", str(port)], env=full_env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                break
        if proc.poll() is not None:
            raise AssertionError(f"lse serve exited: {(data_dir.parent / f'lse-serve-{port}.log').read_text()}")
        assert time.monotonic() < deadline, "lse serve did not come up"
        time.sleep(0.1)
    return LiveLse(base, port, data_dir, full_env, proc)


@pytest.fixture(scope="session")
def live_openai() -> Iterator[OpenAISandbox]:
    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        yield sandbox


def sandbox_env(sandbox: OpenAISandbox) -> dict[str, str]:
    return {"OPENAI_BASE_URL": sandbox.base_url, "OPENAI_API_KEY": sandbox.api_key}


@pytest.fixture(scope="session")
def live_lse(tmp_path_factory: pytest.TempPathFactory, live_openai: OpenAISandbox) -> Iterator[LiveLse]:
    server = start_live_lse(
        tmp_path_factory.mktemp("live-lse") / "data",
        LSE_SECRET_KEY=Fernet.generate_key().decode(),
        **sandbox_env(live_openai),
    )
    yield server
    server.stop()


@dataclass
class RawResponse:
    status: int | None  # None: the server sent nothing before the timeout
    head: str
    body: bytes
    closed: bool  # the server closed the connection after answering


def raw_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body_parts: list[bytes],
    *,
    chunked: bool = True,
    finish: bool = False,
    wait_s: float = 5.0,
) -> RawResponse:
    """Send the head and `body_parts` (chunked unless told otherwise) without finishing the
    body (unless `finish`), then read whatever the server answers within `wait_s`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait_s)
    try:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        with contextlib.suppress(OSError):  # the server may answer and close mid-body
            for part in body_parts:
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
            if finish and chunked:
                sock.sendall(b"0\r\n\r\n")
        data = b""
        closed = False
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:  # reset by the server after it answered
                closed = True
                break
            if not chunk:
                closed = True
                break
            data += chunk
            if b"\r\n\r\n" in data and _complete(data):
                sock.settimeout(1.0)  # answered: does the server also hang up?
                try:
                    closed = sock.recv(1) == b""
                except TimeoutError:
                    closed = False
                except OSError:  # reset: hung up on the unread rest of the body
                    closed = True
                break
        if not data:
            return RawResponse(None, "", b"", closed)
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return RawResponse(status, head.decode("latin-1"), body, closed)
    finally:
        sock.close()


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False
