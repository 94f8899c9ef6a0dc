"""Benchmark a whole batch run against the local OpenAI sandbox (real SDK, real HTTP, SQLite).

    .venv/bin/python bench/bench_batch.py                 # 1,000 and 10,000 items (~1-2 minutes)
    .venv/bin/python bench/bench_batch.py --items 10000 --small 1000 --poll-s 0.5

For each size, a fresh sandbox runs in this process (real clock; each batch validates for 1 s,
runs its lines over 5 s and finalizes for 1 s) and the run is stepped in a child process, as
`lse eval run --mode batch` steps it, so the child's figures are lse's alone. Printed:
- the requests lse made: file uploads, batch creates, polls (retrieves), lists, downloads,
  embeddings requests — against one upload, create and download per 50,000 requests, one
  poll per `--poll-s` of the provider's own time, and one embeddings request per 2,048 texts
  (the sandbox's tokens-per-minute limit is raised so that embeddings are not paced by it);
- the wall time above the sandbox's own batch delay (its created_at → completed_at, exact):
  preparing and uploading the request file, the last poll's wait, downloading, judging and
  saving every line, embeddings, scores, cost;
- peak memory: the child's peak RSS for the whole run, and (tracemalloc, in a child of its
  own) the peaks of writing the request file and of parsing a result file line by line, at
  both sizes: streaming keeps those flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers.batch_eval import PARAMS  # noqa: E402 -- after the path to the test helpers
from helpers.fast_eval import fast_settings, job_rows, make_fast_run, run_row  # noqa: E402 -- idem
from lse.sandbox.openai import OpenAISandbox  # noqa: E402 -- idem
from lse.settings import Settings  # noqa: E402 -- idem

VALIDATE_S, PROCESS_S, FINALIZE_S = 1.0, 5.0, 1.0
EMBEDDINGS_TPM = 100_000_000


def _question(i: int) -> str:
    return f"Benchmark question {i}: which river flows through the old city and reaches the eastern sea?"


# --- the child: one run, stepped here ----------------------------------------------------


def child_run(data_dir: str, base_url: str, run_id: int, poll_s: float) -> None:
    from pydantic import SecretStr

    from lse.evals.batch.pollers import wait_for_run

    settings = Settings(
        data_dir=Path(data_dir),
        request_delay_ms=0,
        openai_base_url=base_url,
        openai_api_key=SecretStr("sk-sandbox"),
        eval_batch_poll_s=poll_s,
    )
    t0 = time.monotonic()
    outcome = wait_for_run(settings, run_id)
    wall = time.monotonic() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"wall_s": wall, "status": outcome.status, "peak_rss_mb": peak_kb / 1024}))


def child_jsonl(n: int) -> None:
    """tracemalloc peaks of the two streaming phases at n items (nothing else in this process)."""
    from lse.evals.batch.config import BatchLimits
    from lse.evals.batch.lines import BadLine, iter_result_lines, judge_line
    from lse.evals.batch.request_file import RequestFile, write_request_files

    tmp = Path(tempfile.mkdtemp(prefix="lse-bench-jsonl-"))
    items = ((i, _question(i)) for i in range(1, n + 1))
    tracemalloc.start()
    for produced in write_request_files(
        items,
        run_id=1,
        attempt=1,
        endpoint="/v1/responses",
        params=PARAMS,
        body_for=lambda p, q: {**p, "input": q},
        limits=BatchLimits(),
        directory=tmp,
    ):
        assert isinstance(produced, RequestFile)
    _, write_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # a result file as the provider writes it (written before measuring, line by line)
    result = tmp / "output.jsonl"
    with result.open("wb") as fh:
        for i in range(1, n + 1):
            body = {
                "id": f"resp_{i}",
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "output_text", "text": f"The answer {i}."}]}],
                "usage": {"input_tokens": 21, "output_tokens": 9},
            }
            line = {"custom_id": f"lse-r1-i{i}-a1", "response": {"status_code": 200, "body": body}, "error": None}
            fh.write(json.dumps(line).encode() + b"\n")
    tracemalloc.start()
    judged = 0
    with result.open("rb") as fh:
        for _number, obj in iter_result_lines(fh):
            if not isinstance(obj, BadLine):
                judge_line(obj)
                judged += 1
    _, parse_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert judged == n
    print(json.dumps({"write_peak_kb": write_peak / 1024, "parse_peak_kb": parse_peak / 1024}))


# --- the parent: sandbox, database, figures ----------------------------------------------


def _child(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, env={**os.environ}, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(n: int, poll_s: float) -> dict:
    with OpenAISandbox(api_key="sk-sandbox") as sb:
        f = sb.batches.faults
        f.validate_s, f.process_s, f.finalize_s = VALIDATE_S, PROCESS_S, FINALIZE_S
        # the embeddings stage is paced by the key's tokens per minute (the sandbox's nominal 2M
        # would make 20,000 texts a ~12 s wait): raise it, so the figure is lse's, not a limit's
        sb.faults.rate_limit_rpm, sb.faults.rate_limit_tpm = 100_000, EMBEDDINGS_TPM
        base = Settings(data_dir=Path(tempfile.mkdtemp(prefix="lse-bench-batch-")), request_delay_ms=0)
        settings = fast_settings(base, sb)
        answers = [f"The answer to benchmark question {i} is river number {i % 97}." for i in range(n)]
        run_id = make_fast_run(settings, [_question(i) for i in range(n)], answers=answers, params=PARAMS)
        from lse.store.engine import get_engine, unit_of_work
        from lse.store.models.evaluation import EvaluationRun

        with unit_of_work(get_engine(settings)) as s:
            s.get(EvaluationRun, run_id).run_mode = "batch"
        sb.stats.reset()
        sb.batches.stats.reset()
        got = _child("--child-run", str(settings.data_dir), sb.base_url, str(run_id), str(poll_s))
        run = run_row(settings, run_id)
        assert run.status == "completed" and run.items_succeeded == n, (run.status, run.error_message)
        batches = sb.batches.newest_first()
        delay = sum((b.completed_at or b.created_at) - b.created_at for b in batches)
        calls = sb.batches.stats.calls
        executed = sb.batches.stats.lines_executed
        return {
            "n": n,
            "wall_s": got["wall_s"],
            "provider_delay_s": delay,
            "peak_rss_mb": got["peak_rss_mb"],
            "uploads": calls["files_uploaded"],
            "creates": calls["create_calls"],
            "polls": calls["retrieves"],
            "lists": calls["lists"] + calls["file_lists"],
            "downloads": calls["content_downloads"],
            "embeddings_requests": sb.stats.requests_by_endpoint.get("embeddings", 0),
            "batches": len(batches),
            "executed_once": len(executed) == n and set(executed.values()) == {1},
            "cost_usd": run.cost["total_cost_usd"],
            "embedding_tokens": job_rows(settings, run_id)["embedding_batch"].usage["input_tokens"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--poll-s", type=float, default=0.5)
    parser.add_argument("--child-run", nargs=4, metavar=("DATA_DIR", "BASE_URL", "RUN_ID", "POLL_S"))
    parser.add_argument("--child-jsonl", type=int)
    args = parser.parse_args()
    if args.child_run:
        data_dir, base_url, run_id, poll_s = args.child_run
        child_run(data_dir, base_url, int(run_id), float(poll_s))
        return
    if args.child_jsonl:
        child_jsonl(args.child_jsonl)
        return

    print(f"batch run against the sandbox: validate {VALIDATE_S:g} s, lines over {PROCESS_S:g} s, "
          f"finalize {FINALIZE_S:g} s; lse polls every {args.poll_s:g} s")  # fmt: skip
    rows = [measure(n, args.poll_s) for n in (args.small, args.items)]
    for r in rows:
        floor_polls = r["provider_delay_s"] / args.poll_s
        emb_floor = -(-2 * r["n"] // 2048)
        print(
            f"\n{r['n']:>6,} items: {r['batches']} batch, every request executed once: {r['executed_once']}\n"
            f"  requests: {r['uploads']} upload, {r['creates']} create, {r['polls']} polls "
            f"(~{floor_polls:.0f} at one per {args.poll_s:g} s of the provider's time), {r['lists']} lists, "
            f"{r['downloads']} download, {r['embeddings_requests']} embeddings requests "
            f"(2,048 texts each at most: {emb_floor} for {2 * r['n']:,} texts before de-duplication)\n"
            f"  embeddings: {r['embedding_tokens']:,} tokens (at {EMBEDDINGS_TPM:,} tokens/min: a "
            f"{r['embedding_tokens'] / EMBEDDINGS_TPM * 60:.2f} s floor; at 2,000,000 it would be "
            f"{r['embedding_tokens'] / 2_000_000 * 60:.1f} s)\n"
            f"  wall {r['wall_s']:.2f} s = provider's own delay {r['provider_delay_s']:.2f} s "
            f"+ {r['wall_s'] - r['provider_delay_s']:.2f} s of lse "
            f"({(r['wall_s'] - r['provider_delay_s']) / r['n'] * 1000:.3f} ms per item)\n"
            f"  peak RSS of the run's process {r['peak_rss_mb']:.0f} MB; cost ${r['cost_usd']:.6f}"
        )
    small, big = (_child("--child-jsonl", str(n)) for n in (args.small, args.items))
    print(
        "\nstreaming phases (tracemalloc peak, Python heap):\n"
        f"  write the request file: {small['write_peak_kb']:.0f} KB at {args.small:,} items, "
        f"{big['write_peak_kb']:.0f} KB at {args.items:,} ({big['write_peak_kb'] / small['write_peak_kb']:.2f}x; "
        "the line index grows by ~100 bytes a request)\n"
        f"  parse a result file:    {small['parse_peak_kb']:.0f} KB at {args.small:,} items, "
        f"{big['parse_peak_kb']:.0f} KB at {args.items:,} ({big['parse_peak_kb'] / small['parse_peak_kb']:.2f}x)"
    )
    a, b = rows
    print(
        f"\nwhole run, {args.items:,} vs {args.small:,} items: peak RSS {b['peak_rss_mb']:.0f} vs "
        f"{a['peak_rss_mb']:.0f} MB ({b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x for {args.items / args.small:.0f}x the items)"
    )


if __name__ == "__main__":
    main()
