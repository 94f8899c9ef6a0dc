"""The two questions the demo asks of the feedback table, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.loader import load_day
from lse.store.queries import verdict_summary, verdicts_with_factor

NOW = datetime(2025, 9, 8, 12, 0, tzinfo=UTC)


def _run(verdict: str, factors: tuple[str, ...], created: datetime) -> dict:
    run = make_run(feedback=[])
    run["feedback_records"] = [make_feedback(run, verdict=verdict, true_factors=factors, created_at=created)]
    return run


def test_fail_verdicts_with_a_true_factor_last_week(db_settings, engine):
    hit = _run("FAIL", ("criteria_a", "criteria_b"), NOW - timedelta(days=2))
    runs = [
        hit,
        _run("FAIL", ("criteria_b",), NOW - timedelta(days=2)),  # factor false
        _run("PASS", ("criteria_a",), NOW - timedelta(days=2)),  # not a FAIL
        _run("FAIL", ("criteria_a",), NOW - timedelta(days=9)),  # too old
    ]
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)

    hits = verdicts_with_factor(engine, verdict="FAIL", factor="criteria_a", until=NOW)

    assert [h.run_id for h in hits] == [hit["id"]]
    assert hits[0].value["rationale"]["criteria_a"] is True and hits[0].project == PROJECT
    assert verdicts_with_factor(engine, until=NOW, project="other") == []


def test_verdict_summary_of_a_project_day(db_settings, engine):
    t = NOW - timedelta(days=1)
    runs = [
        _run("FAIL", ("criteria_a", "criteria_b"), t),
        _run("FAIL", ("criteria_a",), t),
        _run("PASS", (), t),
        make_run(feedback=None),  # not fetched: no rows
    ]
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)

    summary = verdict_summary(engine, PROJECT, DAY)

    assert summary.feedback_records == 3
    assert summary.verdicts == {"FAIL": 2, "PASS": 1}
    assert summary.top_true_factors[:2] == [("criteria_a", 2), ("criteria_b", 1)]
