"""Monitoring over recorded fetches (docs/monitoring.md): the alert rules and the
Prometheus text exposition, read back with prometheus_client's own parser."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lse.monitoring.prometheus import exposition
from lse.monitoring.status import build_status
from lse.store import fetch_records
from lse.store.engine import get_engine

NOW = datetime.now(UTC)


def _fetch(
    settings,
    day: date,
    *,
    runs=100,
    with_stats=40,
    fetched=40,
    not_fetched=0,
    duration=10.0,
    status="complete",
    ago_h=1.0,
    project="p",
    kind="fetch",
    **extra,
):
    finished = NOW - timedelta(hours=ago_h)
    return fetch_records.record(
        get_engine(settings),
        fetch_records.FetchRecord(
            kind=kind,
            project=project,
            day=day,
            status=status,
            counts={
                "runs": runs,
                "traces": runs // 4,
                "runs_with_feedback_stats": with_stats,
                "runs_feedback_fetched": fetched,
                "runs_feedback_not_fetched": not_fetched,
                "feedback_records": fetched * 2,
            },
            requests=20,
            errors=1,
            rate_limited=1,
            duration_s=duration,
            started_at=finished - timedelta(seconds=duration),
            finished_at=finished,
            **extra,
        ),
    )


@pytest.fixture
def settings_db(db_settings):
    return db_settings


def test_a_clean_fetch_is_a_success_and_exits_0(settings_db):
    _fetch(settings_db, date(2026, 11, 20))
    report = build_status(settings_db)
    assert [a.level.value for a in report.alerts] == ["SUCCESS"]
    assert report.exit_code == 0


def test_feedback_failures_above_five_percent_are_critical(settings_db):
    _fetch(settings_db, date(2026, 11, 20), with_stats=100, fetched=94, not_fetched=6)  # 6% > 5%
    _fetch(settings_db, date(2026, 11, 21), with_stats=100, fetched=95, not_fetched=5, ago_h=0.5)  # 5%: not above
    report = build_status(settings_db)
    critical = [a for a in report.alerts if a.level.value == "CRITICAL"]
    assert [a.day for a in critical] == [date(2026, 11, 20)]
    assert "6 of 100" in critical[0].message
    assert report.exit_code == 2


def test_a_failed_fetch_is_critical_and_names_the_error(settings_db):
    _fetch(settings_db, date(2026, 11, 20), status="failed", details={"error": "HTTP 503 from /runs/query"})
    report = build_status(settings_db)
    assert report.exit_code == 2
    assert "HTTP 503 from /runs/query" in report.alerts[0].message


def test_slower_than_150_percent_of_the_baseline_warns(settings_db):
    for i, seconds in enumerate((10.0, 12.0, 11.0)):  # baseline: median 0.11 s/run
        _fetch(settings_db, date(2026, 11, 10 + i), duration=seconds, ago_h=30 - i)
    _fetch(settings_db, date(2026, 11, 20), duration=16.0, ago_h=2)  # 145%: fine
    _fetch(settings_db, date(2026, 11, 21), duration=18.0, ago_h=1)  # 157% of the median 0.115 s/run: slow
    report = build_status(settings_db)
    warnings = [a for a in report.alerts if a.level.value == "WARNING"]
    assert [a.day for a in warnings] == [date(2026, 11, 21)]
    assert report.exit_code == 1


def test_old_fetches_fall_outside_the_window(settings_db):
    _fetch(settings_db, date(2026, 11, 1), status="failed", ago_h=24 * 10)
    assert build_status(settings_db, days=7).exit_code == 0
    assert build_status(settings_db, days=14).exit_code == 2


def test_exposition_parses_and_carries_the_latest_fetch_of_each_day(settings_db):
    _fetch(settings_db, date(2026, 11, 20), with_stats=50, fetched=40, not_fetched=10, ago_h=3)
    _fetch(settings_db, date(2026, 11, 20), with_stats=50, fetched=50, not_fetched=0, ago_h=1)  # re-fetched later
    _fetch(settings_db, date(2026, 11, 21), runs=8, with_stats=0, fetched=0, ago_h=0.5, project="q/ü")
    text = exposition(build_status(settings_db))

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    day = (("day", "2026-11-20"), ("project", "p"))
    assert samples[("lse_feedback_coverage_ratio", day)] == 1.0
    assert samples[("lse_feedback_extraction_failure_ratio", day)] == 0.0
    assert samples[("lse_api_error_ratio", day)] == pytest.approx(0.1)
    assert samples[("lse_fetch_runs", (("day", "2026-11-21"), ("project", "q/ü")))] == 8
    # no feedback_stats: the coverage is unknown, not 0 — no sample rather than a false one
    assert ("lse_feedback_coverage_ratio", (("day", "2026-11-21"), ("project", "q/ü"))) not in samples
    assert samples[("lse_alerts", (("level", "CRITICAL"),))] == 1  # the earlier fetch's 20% failure
    assert samples[("lse_status_exit_code", ())] == 2
