"""Load check: hostile bodies against a live `lse serve` while a fast run proceeds.

    .venv/bin/python bench/bench_hostile.py             # ~1 minute
    .venv/bin/python bench/bench_hostile.py --items 100 --attackers 20

One `lse serve` process (SQLite, in-process pool, the OpenAI sandbox on loopback with
250 ms per Responses call). First a fast run of 100 items alone (the baseline), then the
same run again while 12 attacker threads keep sending, for as long as it lasts:

- unauthenticated chunked bodies of up to 400 MB (JSON and multipart),
- authenticated chunked JSON of up to 50 MB to /configs (cap 256 KB),
- authenticated chunked multipart uploads of up to 1 GB (cap 1 MB + 64 KB),
- requests with a declared Content-Length of 1 GB.

Each attacker streams until the server answers and hangs up. The server's resident memory
is sampled every 20 ms. Printed: idle RSS, peak RSS and its growth (goal: within 100 MB
of idle), the bytes the server let in per request (what it read before refusing, plus
socket buffers), and the run's wall time with and without the attack (the slowdown).
Exits 1 if the peak is 100 MB or more above idle.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.live_lse import LiveLse, sandbox_env, start_live_lse
from lse.sandbox.openai import OpenAISandbox

MB = 1024 * 1024
CHUNK = 64 * 1024
BLOB = {"completion": {"provider": "openai", "type": "text", "params": {"model": "gpt-4o-mini"}}}
RSS_GOAL_MB = 100
LATENCY_MS = 250  # per Responses call at the sandbox, so the run lasts a few seconds
MULTIPART_HEAD = (
    b'--x\r\nContent-Disposition: form-data; name="dataset_name"\r\n\r\nbig\r\n'
    b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
    b"Content-Type: text/csv\r\n\r\nquestion,answer\n"
)


@dataclass
class Attack:
    name: str
    path: str
    content_type: str
    max_bytes: int
    with_key: bool
    declared: bool = False
    sent: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def _status(data: bytes) -> int:
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def attack_once(port: int, key: str, attack: Attack) -> None:
    """One hostile request: stream until the server answers or hangs up."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        attack.statuses.append(0)
        return
    sent = 0
    status = 0
    try:
        head = [f"POST {attack.path} HTTP/1.1", "Host: x", f"Content-Type: {attack.content_type}"]
        if attack.with_key:
            head.append(f"X-API-KEY: {key}")
        head.append(f"Content-Length: {attack.max_bytes}" if attack.declared else "Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        upload = attack.content_type.startswith("multipart/")
        body = (b"q,a\n" * (CHUNK // 4)) if upload else b"[" * CHUNK
        payload = body if attack.declared else f"{CHUNK:x}\r\n".encode() + body + b"\r\n"
        if upload:  # a well-formed start, so the server reads the file part until its cap
            start = (
                MULTIPART_HEAD
                if attack.declared
                else f"{len(MULTIPART_HEAD):x}\r\n".encode() + MULTIPART_HEAD + b"\r\n"
            )
            sock.sendall(start)
            sent += len(MULTIPART_HEAD)
        while sent < attack.max_bytes:
            try:
                data = sock.recv(4096)
                if data:
                    status = _status(data)
                break  # the server answered (or hung up): stop sending
            except BlockingIOError:
                pass
            except OSError:  # reset: the server hung up on the rest
                break
            try:
                sock.sendall(payload)
                sent += CHUNK
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        if not status:
            sock.setblocking(True)
            sock.settimeout(5)
            try:
                status = _status(sock.recv(4096))
            except OSError:
                status = 0
    finally:
        sock.close()
    attack.sent.append(sent)
    attack.statuses.append(status)


def sample_rss(server: LiveLse, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], server.rss_kb())
        except (OSError, AssertionError):
            return
        time.sleep(0.02)


def fast_run(server: LiveLse, key: str, n: int, tag: str) -> float:
    csv = "question,answer\n" + "".join(f"question {tag} number {i},answer {i}\n" for i in range(n))
    with httpx.Client(base_url=server.base_url, headers={"X-API-KEY": key}, timeout=60) as c:
        ds = c.post(
            "/api/v1/evaluations/datasets",
            files={"file": ("d.csv", csv.encode(), "text/csv")},
            data={"dataset_name": f"bench_{tag}"},
        ).json()["data"]
        cfg = c.post("/api/v1/configs", json={"name": f"bench-{tag}", "config_blob": BLOB}).json()["data"]
        body = {
            "experiment_name": f"bench-{tag}",
            "dataset_id": ds["dataset_id"],
            "config_id": cfg["id"],
            "config_version": 1,
            "run_mode": "fast",
        }
        t0 = time.monotonic()
        run_id = c.post("/api/v1/evaluations", json=body).json()["data"]["id"]
        while True:
            run = c.get(f"/api/v1/evaluations/{run_id}").json()["data"]
            if run["status"] in ("completed", "failed"):
                assert run["status"] == "completed", run
                return time.monotonic() - t0
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--attackers", type=int, default=12)
    args = parser.parse_args()

    with OpenAISandbox(api_key="sk-sandbox") as sandbox:
        sandbox.faults.responses_latency_ms = LATENCY_MS
        data = Path(tempfile.mkdtemp(prefix="lse-bench-hostile-")) / "data"
        server = start_live_lse(data, LSE_EVAL_FAST_MAX_UNIQUE_ROWS=str(args.items), **sandbox_env(sandbox))
        try:
            key = server.new_key("bench")
            fast_run(server, key, 5, "warm")  # SDK, pool and routes warmed up
            time.sleep(1)
            idle_kb = server.rss_kb()
            baseline = fast_run(server, key, args.items, "alone")

            attacks = [
                Attack("no key, JSON, 400 MB chunked", "/api/v1/configs", "application/json", 400 * MB, False),
                Attack(
                    "no key, upload, 400 MB chunked",
                    "/api/v1/evaluations/datasets",
                    "multipart/form-data; boundary=x",
                    400 * MB,
                    False,
                ),
                Attack("key, JSON config, 50 MB chunked", "/api/v1/configs", "application/json", 50 * MB, True),
                Attack(
                    "key, upload, 1 GB chunked",
                    "/api/v1/evaluations/datasets",
                    "multipart/form-data; boundary=x",
                    1024 * MB,
                    True,
                ),
                Attack(
                    "key, upload, 1 GB declared",
                    "/api/v1/evaluations/datasets",
                    "multipart/form-data; boundary=x",
                    1024 * MB,
                    True,
                    declared=True,
                ),
            ]
            stop = threading.Event()
            peak = [idle_kb]
            sampler = threading.Thread(target=sample_rss, args=(server, stop, peak), daemon=True)
            sampler.start()

            def attacker(i: int) -> None:
                attack = attacks[i % len(attacks)]
                while not stop.is_set():
                    attack_once(server.port, key, attack)

            threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(args.attackers)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            attacked = fast_run(server, key, args.items, "attacked")
            stop.set()
            for t in threads:
                t.join(timeout=15)
            sampler.join(timeout=2)
        finally:
            server.stop()

    growth_mb = (peak[0] - idle_kb) / 1024
    print(
        f"server RSS idle {idle_kb / 1024:.1f} MB, peak under attack {peak[0] / 1024:.1f} MB: +{growth_mb:.1f} MB "
        f"(goal: < {RSS_GOAL_MB} MB)"
    )
    print(
        f"fast run of {args.items} items: alone {baseline:.2f} s, under attack {attacked:.2f} s "
        f"(slowdown x{attacked / baseline:.2f})"
    )
    print(f"{'attack':36} {'requests':>8} {'statuses':>16} {'MB in per request (max / mean)':>32}")
    for a in attacks:
        statuses = ",".join(str(s) for s in sorted(set(a.statuses))) or "-"
        biggest = max(a.sent, default=0) / MB
        mean = (sum(a.sent) / len(a.sent) / MB) if a.sent else 0.0
        print(f"{a.name:36} {len(a.sent):>8} {statuses:>16} {biggest:>20.2f} / {mean:.2f}")
    return 0 if growth_mb < RSS_GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
