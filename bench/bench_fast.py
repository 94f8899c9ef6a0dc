"""Benchmark the fast engine against the local OpenAI sandbox (real SDK, real HTTP, SQLite).

    .venv/bin/python bench/bench_fast.py            # both scenarios (b takes ~100 s)
    .venv/bin/python bench/bench_fast.py --only a

(a) 50 items, 1 s per Responses call, 200 ms per embeddings call, concurrency 10:
    wall time vs the floor ceil(50/10) x 1 s + one embeddings round (5.2 s), and vs a design
    that sends one embeddings request per (output, ground truth) pair — that variant's
    embeddings phase is MEASURED here by sending the 50 per-pair requests to the same
    sandbox at the same concurrency, and also given by the formula ceil(50/10) x 0.2 s.
(b) 2,000 items at concurrency 50 against rate_limit_rps=20 (token bucket, burst 1):
    failed items (goal 0) and Responses throughput as a share of the limit (goal >= 85%).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.fast_eval import fast_settings, job_rows, make_fast_run, run_row
from lse.evals.fast import execute_run
from lse.providers.client import openai_client
from lse.providers.embeddings import create_embeddings
from lse.sandbox.openai import OpenAISandbox
from lse.settings import Settings


def _settings(sandbox: OpenAISandbox, **kw: object) -> Settings:
    base = Settings(data_dir=Path(tempfile.mkdtemp(prefix="lse-bench-")), request_delay_ms=0)
    return fast_settings(base, sandbox, retry_max_wait_s=10.0, eval_fast_call_timeout_s=60.0, **kw)


def _run_a(sb: OpenAISandbox, n: int, conc: int, resp_s: float, emb_s: float) -> float:
    s = _settings(sb, eval_fast_api_concurrency=conc)
    run_id = make_fast_run(s, [f"bench question {i}" for i in range(n)])
    sb.faults.responses_latency_ms = int(resp_s * 1000)
    sb.faults.embeddings_latency_ms = int(emb_s * 1000)
    sb.stats.reset()
    t0 = time.monotonic()
    out = execute_run(s, run_id)
    wall = time.monotonic() - t0
    assert out.status == "completed", out.error_message
    return wall


def scenario_a() -> dict:
    n, conc, resp_s, emb_s = 50, 10, 1.0, 0.2
    with OpenAISandbox(api_key="sk-sandbox") as sb:
        cold = _run_a(sb, n, conc, resp_s, emb_s)  # first run in a fresh process: SDK lazy init included
        wall = _run_a(sb, n, conc, resp_s, emb_s)  # steady state, as in a long-lived worker
        s = _settings(sb, eval_fast_api_concurrency=conc)
        embeddings_requests = sb.stats.requests_by_endpoint.get("embeddings", 0)
        batches = sb.stats.embeddings_batches
        # the per-pair variant's embeddings phase, measured: one request per (output, answer) pair
        client = openai_client(s)
        t1 = time.monotonic()
        with ThreadPoolExecutor(conc) as pool:
            list(
                pool.map(
                    lambda i: create_embeddings(
                        client, model=s.eval_embedding_model, texts=[f"output {i}", f"answer {i}"]
                    ),
                    range(n),
                )
            )
        per_pair_embed = time.monotonic() - t1
    floor = math.ceil(n / conc) * resp_s + emb_s
    per_pair_formula = math.ceil(n / conc) * resp_s + math.ceil(n / conc) * emb_s
    responses_phase = wall - emb_s  # our single embeddings round is one 200 ms request
    return {
        "items": n,
        "concurrency": conc,
        "wall_s": round(wall, 3),
        "wall_cold_process_s": round(cold, 3),
        "cold_over_floor_pct": round((cold / floor - 1) * 100, 1),
        "floor_s": floor,
        "over_floor_pct": round((wall / floor - 1) * 100, 1),
        "goal_within_15pct": wall <= floor * 1.15,
        "embeddings_requests": embeddings_requests,
        "embeddings_batch_sizes": batches,
        "per_pair_design_formula_s": per_pair_formula,
        "per_pair_design_measured_s": round(responses_phase + per_pair_embed, 3),
        "per_pair_embeddings_phase_measured_s": round(per_pair_embed, 3),
        "per_pair_embeddings_requests": n,
    }


def scenario_b() -> dict:
    n, conc, rps = 2000, 50, 20.0
    with OpenAISandbox(api_key="sk-sandbox") as sb:
        s = _settings(sb, eval_fast_api_concurrency=conc)
        run_id = make_fast_run(s, [f"bench question {i}" for i in range(n)])
        sb.faults.rate_limit_rps = rps
        t0 = time.monotonic()
        out = execute_run(s, run_id)
        wall = time.monotonic() - t0
        run = run_row(s, run_id)
        job = job_rows(s, run_id)["evaluation_fast"]
        responses_s = (job.created_at - run.started_at).total_seconds()
        stats = sb.stats.status_counts
        responses_calls = sb.stats.requests_by_endpoint.get("responses", 0)
    throughput = n / responses_s
    return {
        "items": n,
        "concurrency": conc,
        "rate_limit_rps": rps,
        "status": out.status,
        "failed_items": out.failed,
        "wall_s": round(wall, 2),
        "responses_stage_s": round(responses_s, 2),
        "floor_s": n / rps,
        "throughput_rps": round(throughput, 2),
        "share_of_limit_pct": round(throughput / rps * 100, 1),
        "goal_no_failures": out.failed == 0,
        "goal_85pct": throughput / rps >= 0.85,
        "responses_requests": responses_calls,
        "http_429": stats.get(429, 0),
        "adapter": out.calls.get("responses"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["a", "b"], default=None)
    args = parser.parse_args()
    results = {}
    if args.only in (None, "a"):
        results["a"] = scenario_a()
        print(json.dumps({"a": results["a"]}, indent=2), flush=True)
    if args.only in (None, "b"):
        results["b"] = scenario_b()
        print(json.dumps({"b": results["b"]}, indent=2), flush=True)


if __name__ == "__main__":
    main()
