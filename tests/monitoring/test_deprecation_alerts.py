"""Deprecation and Sunset headers, as LangSmith and RFC 8594/9745 write them, become one
WARNING per project and endpoint, naming the endpoint and the sunset date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lse.monitoring.deprecations import deprecation_alerts, header_time
from lse.monitoring.figures import FetchFigures


def fig(day: int, run_api: str, deprecations: dict) -> FetchFigures:
    return FetchFigures(
        kind="fetch",
        project="p",
        day=date(2026, 11, day),
        status="complete",
        finished_at=datetime(2026, 12, 1, day, tzinfo=UTC),
        runs=1,
        traces=1,
        runs_with_feedback_stats=0,
        runs_feedback_fetched=0,
        runs_feedback_not_fetched=0,
        feedback_records=0,
        requests=3,
        retries=0,
        rate_limited=0,
        errors=0,
        duration_s=1.0,
        feedback_coverage_rate=None,
        feedback_failure_rate=None,
        api_error_rate=0.0,
        seconds_per_1000_runs=None,
        seconds_per_trace=None,
        run_api=run_api,
        deprecations=deprecations,
    )


def test_header_times():
    assert header_time("Sun, 31 Jan 2027 00:00:00 GMT") == datetime(2027, 1, 31, tzinfo=UTC)
    assert header_time("@1801353600") == datetime(2027, 1, 31, tzinfo=UTC)
    assert header_time("true") is None and header_time(None) is None and header_time("@soon") is None


def test_one_warning_per_endpoint_naming_it_and_the_sunset():
    seen = {"POST /runs/query": {"deprecation": "true", "sunset": "Sun, 31 Jan 2027 00:00:00 GMT", "responses": 2}}
    other = {"GET /sessions": {"deprecation": "@1790000000", "sunset": None, "responses": 1}}
    alerts = deprecation_alerts([fig(18, "v1", seen), fig(19, "v1", {**seen, **other}), fig(20, "v2", {})])
    assert [(a.level, a.endpoint) for a in alerts] == [("WARNING", "GET /sessions"), ("WARNING", "POST /runs/query")]
    runs_query = alerts[1]
    assert runs_query.day == date(2026, 11, 19) and runs_query.sunset == "Sun, 31 Jan 2027 00:00:00 GMT"
    assert "POST /runs/query" in runs_query.message and "2027-01-31" in runs_query.message
    assert "2 fetch(es)" in runs_query.message and "LSE_LANGSMITH_RUN_API=auto" in runs_query.message
    assert "not announced" in alerts[0].message and "upgrade lse" in alerts[0].message
    assert deprecation_alerts([fig(20, "v2", {})]) == []
