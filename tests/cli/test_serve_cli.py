"""`lse serve` as a user starts it: a real uvicorn process answering the API."""

from __future__ import annotations

import socket
import time

import httpx

from helpers.cli import lse_env, run_lse, start_lse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_with_the_envelope(tmp_path):
    env = lse_env(LSE_DATA_DIR=str(tmp_path / "data"))
    key = run_lse("admin", "create-key", "--org", "acme", "--project", "support", env=env).stdout.strip()
    port = free_port()
    proc = start_lse("serve", "--host", "127.0.0.1", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                if httpx.get(f"{base}/docs", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.time() < deadline, "lse serve did not come up"
            time.sleep(0.2)
        ok = httpx.get(f"{base}/api/v1/configs", headers={"X-API-KEY": key})
        assert ok.status_code == 200 and ok.json()["success"] is True
        bad = httpx.get(f"{base}/api/v1/configs", headers={"X-API-KEY": "nope"})
        assert bad.status_code == 401 and bad.json()["success"] is False and bad.json()["error"]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
