"""Fetch benchmark: requests for a sandbox day of ~10,000 runs in 1,000 traces, 30% of
traces with feedback, against the minimum the API allows and the naive design.

    minimum = 1 project lookup + ceil(R/100) run pages + closure queries
              + max(ceil(F/100) feedback pages, ceil(runs with feedback / 100) batches)
    naive   = one list_feedback per run + the run pages (about R + R/100)

Usage: .venv/bin/python bench/bench_fetch.py [--traces 1000] [--delay-ms 2]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lse.jobs.fetch import fetch_days
from lse.langsmith.fetch_plan import CLOSURE_TRACES_PER_QUERY
from lse.sandbox.langsmith import LangSmithSandbox, SandboxSpec
from lse.settings import Settings

DAY = date(2026, 11, 20)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=2)
    args = parser.parse_args()
    spec = SandboxSpec(
        project="bench-project",
        days=[DAY],
        traces_per_day=args.traces,
        children_per_trace=(0, 18),
        feedback_trace_share=0.3,
        seed=3,
        hard_cases=False,
    )
    t0 = time.perf_counter()
    with LangSmithSandbox([spec], api_key="bench-key") as sb:
        built = time.perf_counter() - t0
        upstream = sb.world.runs_for_day("bench-project", DAY)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                langsmith_endpoint=sb.url,
                langsmith_api_key="bench-key",
                request_delay_ms=args.delay_ms,
            )
            t1 = time.perf_counter()
            report = fetch_days(settings, "bench-project", [DAY])
            wall = time.perf_counter() - t1
        d = report.days[0]
        total_requests = sb.counters.total
    scanned_pages = math.ceil(d.runs / 100)
    closure = math.ceil(d.crossing_traces / CLOSURE_TRACES_PER_QUERY)
    fb_pages = max(math.ceil(d.feedback_records / 100), math.ceil(d.runs_with_feedback_stats / 100))
    minimum = 1 + scanned_pages + closure + fb_pages
    naive = d.runs + math.ceil(d.runs / 100) + 1
    print(f"sandbox world: {len(upstream)} runs in {d.traces} traces (built in {built:.1f}s)")
    print(
        f"runs archived R={d.runs}, traces={d.traces}, runs with feedback_stats={d.runs_with_feedback_stats}, "
        f"feedback records F={d.feedback_records}, traces crossing midnight={d.crossing_traces}"
    )
    print(f"requests made:            {total_requests}  (by kind: {dict(sb.counters.by_kind)})")
    print(f"minimum the API allows:   {minimum}  (1 + {scanned_pages} pages + {closure} closure + {fb_pages} feedback)")
    print(f"ratio made/minimum:       {total_requests / minimum:.3f}  (goal <= 1.10)")
    print(f"naive one-list_feedback-per-run design: {naive} requests ({naive / total_requests:.1f}x more)")
    print(f"wall time: {wall:.1f}s at {args.delay_ms} ms between requests; status {d.status}")
    return 0 if total_requests <= 1.10 * minimum and d.status == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
