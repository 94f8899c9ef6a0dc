"""Fetch benchmark: the v2 and the v1 runs query side by side on a sandbox day of ~10,000
runs in 1,000 traces (30% of traces with feedback), then a day whose feedback endpoint
is down.

For each API: the requests made (on the wire, counted by the sandbox), the minimum the
API allows, their ratio (goal <= 1.10), and the wall time at the default 1000 ms pacing
(computed: the pacer starts one request per second, so about one second per request).

    minimum = 1 project lookup + ceil(S/page) run pages + closure queries
              + max(ceil(F/100) feedback pages, ceil(runs with feedback / 100) batches)

with S the runs that started in the day (the scan; page 1,000 on v2, 100 on v1), F the
feedback records. The outage part measures one feedback batch's retry budget and the
whole day with every /feedback request failing (goal: the day under 2x one budget), with
the default retry policy scaled down 20x so it runs in seconds, on a smaller day (300
traces, all with feedback) whose scan is quick beside the retry waits.

Usage: .venv/bin/python bench/bench_fetch.py [--traces 1000] [--delay-ms 2]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from lse.errors import LseError, PartialResult
from lse.jobs.fetch import fetch_days
from lse.langsmith.feedback_query import expected_records, fetch_batch, plan_batches
from lse.langsmith.fetch_plan import CLOSURE_TRACES_PER_QUERY
from lse.langsmith.transport import LangSmithApi
from lse.sandbox.langsmith import LangSmithSandbox, SandboxSpec, ServerApis
from lse.settings import Settings

DAY = date(2026, 11, 20)
PAGE = {"v2": 1000, "v1": 100}
DEFAULT_PACING_S = 1.0
SCALE = 20  # the outage runs the default retry policy 20x faster
OUTAGE_TRACES = 300


def spec(traces: int) -> SandboxSpec:
    return SandboxSpec(
        project="bench-project",
        days=[DAY],
        traces_per_day=traces,
        children_per_trace=(0, 18),
        feedback_trace_share=0.3,
        seed=3,
        hard_cases=False,
    )


def settings_for(sb: LangSmithSandbox, tmp: str, **kw: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": Path(tmp),
        "langsmith_endpoint": sb.url,
        "langsmith_api_key": "bench-key",
    }
    values.update(kw)
    return Settings.model_validate(values)


def scanned(sb: LangSmithSandbox) -> int:
    lo = datetime.combine(DAY, datetime.min.time())
    return sum(1 for row in sb.world.runs.values() if lo <= row.start < lo + timedelta(days=1))


def one_api(run_api: str, traces: int, delay_ms: int) -> dict[str, float]:
    with LangSmithSandbox([spec(traces)], api_key="bench-key", apis=ServerApis.v1_deprecated()) as sb:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(sb, tmp, request_delay_ms=delay_ms, langsmith_run_api=run_api)
            t0 = time.perf_counter()
            report = fetch_days(settings, "bench-project", [DAY])
            wall = time.perf_counter() - t0
        d = report.days[0]
        made = sb.counters.total
        pages = math.ceil(scanned(sb) / PAGE[run_api])
        closure = math.ceil(d.crossing_traces / CLOSURE_TRACES_PER_QUERY)
        feedback = max(math.ceil(d.feedback_records / 100), math.ceil(d.runs_with_feedback_stats / 100))
        minimum = 1 + pages + closure + feedback
        assert d.status == "complete" and report.run_api == run_api
        return {
            "runs": d.runs,
            "traces": d.traces,
            "scanned": scanned(sb),
            "records": d.feedback_records,
            "made": made,
            "run_pages": sb.counters.kind("runs_query"),
            "feedback": sb.counters.kind("feedback"),
            "minimum": minimum,
            "pages": pages,
            "closure": closure,
            "feedback_min": feedback,
            "ratio": made / minimum,
            "paced_s": made * DEFAULT_PACING_S,
            "wall": wall,
        }


def outage() -> dict[str, float]:
    """One feedback batch's retry budget, and a whole day with /feedback down."""
    policy = {"request_delay_ms": 0, "retry_base_wait_s": 1.0 / SCALE, "retry_max_wait_s": 60.0 / SCALE}
    day_spec = SandboxSpec(
        project="bench-project",
        days=[DAY],
        traces_per_day=OUTAGE_TRACES,
        children_per_trace=(0, 2),
        feedback_trace_share=1.0,
        seed=3,
        hard_cases=False,
    )
    with LangSmithSandbox([day_spec], api_key="bench-key") as sb:
        sb.faults.feedback_status = 500
        runs = sb.world.runs_for_day("bench-project", DAY)
        batches = plan_batches([(r["id"], expected_records(r["feedback_stats"])) for r in runs if r["feedback_stats"]])
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(sb, tmp, **policy)
            api = LangSmithApi(settings)
            t0 = time.perf_counter()
            try:
                list(fetch_batch(api, batches[0]))
                raise SystemExit("the outage did not fail a feedback batch")
            except LseError:
                budget = time.perf_counter() - t0
            api.close()
            sb.counters.reset()
            t1 = time.perf_counter()
            try:
                fetch_days(settings, "bench-project", [DAY])
                raise SystemExit("the outage day ended complete")
            except PartialResult:
                day = time.perf_counter() - t1
        return {
            "batches": len(batches),
            "budget": budget,
            "day": day,
            "ratio": day / budget,
            "calls": sb.counters.kind("feedback"),
            "retries": settings.max_retries,
        }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=2)
    args = parser.parse_args()
    figures = {api: one_api(api, args.traces, args.delay_ms) for api in ("v2", "v1")}
    v2, v1 = figures["v2"], figures["v1"]
    print(
        f"sandbox day: {v2['runs']:.0f} runs in {v2['traces']:.0f} traces ({v2['scanned']:.0f} started that day), "
        f"{v2['records']:.0f} feedback records"
    )
    print(f"{'':34}{'v2':>14}{'v1':>14}")
    rows = [
        ("requests made", "made", "{:.0f}"),
        ("  run query pages + closure", "run_pages", "{:.0f}"),
        ("  feedback requests", "feedback", "{:.0f}"),
        ("minimum the API allows", "minimum", "{:.0f}"),
        ("  1 lookup + pages + closure + fb", None, ""),
        ("ratio made/minimum (goal <= 1.10)", "ratio", "{:.3f}"),
        ("wall time at 1000 ms pacing (s)", "paced_s", "{:.0f}"),
        (f"measured wall at {args.delay_ms} ms pacing (s)", "wall", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        if key is None:
            parts = [f"1+{f['pages']:.0f}+{f['closure']:.0f}+{f['feedback_min']:.0f}" for f in (v2, v1)]
            print(f"{label:34}{parts[0]:>14}{parts[1]:>14}")
        else:
            print(f"{label:34}{fmt.format(v2[key]):>14}{fmt.format(v1[key]):>14}")
    print(
        f"v2 saves {v1['made'] - v2['made']:.0f} requests ({v1['paced_s'] / v2['paced_s']:.1f}x less time at 1 s pacing)"
    )

    out = outage()
    print(
        f"feedback outage on a {OUTAGE_TRACES}-trace day (every /feedback 500; retry waits at 1/{SCALE} of the "
        f"defaults, {out['retries']:.0f} retries): {out['batches']:.0f} feedback batches"
    )
    print(
        f"  one batch's retry budget:   {out['budget']:.2f}s  (x{SCALE} = {out['budget'] * SCALE:.0f}s at the defaults)"
    )
    print(
        f"  the whole day:              {out['day']:.2f}s  ({out['ratio']:.2f}x one budget, goal < 2; "
        f"{out['calls']:.0f} feedback calls; without the breaker ~{out['batches']:.0f}x)"
    )
    ok = all(f["ratio"] <= 1.10 for f in figures.values()) and out["ratio"] < 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
