"""The two questions the demo asks of the feedback table, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.loader import load_day
from lse.store.queries import verdict_summary, verdicts_statement, verdicts_with_factor

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


def test_the_gin_indexes_serve_containment_on_postgresql(db_settings, engine):
    """jsonb_path_ops GIN indexes serve `@>` only: the verdict query must filter with
    containment, and the planner must be able to answer containment on feedback.value
    and on the run's attributes from them. (With a time window the planner may rather
    start from the (project, created_at) index; what matters is that the GIN one can.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("GIN indexes exist on PostgreSQL only")
    runs = [_run("FAIL", ("criteria_a",), NOW - timedelta(days=1)) for _ in range(3)]
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)
    stmt = verdicts_statement(
        "postgresql", verdict="FAIL", factor="criteria_a", since=NOW - timedelta(days=7), until=NOW
    )
    assert "feedback.value @>" in str(stmt.compile(dialect=engine.dialect))
    value = {"verdict": "FAIL", "rationale": {"criteria_a": True}}
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # three rows: force the choice

        def plan(sql: str, doc: dict) -> str:
            return "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql), {"doc": json.dumps(doc)}))

        value_plan = plan("SELECT feedback_id FROM feedback WHERE value @> CAST(:doc AS jsonb)", value)
        attributes_plan = plan(
            "SELECT run_id FROM runs WHERE lse_run_attributes(data) @> CAST(:doc AS jsonb)",
            {"extra": {"metadata": {"env": "test"}}},
        )
        opclasses = dict(
            conn.execute(
                text(
                    "SELECT c.relname, o.opcname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    " JOIN pg_opclass o ON o.oid = i.indclass[0] WHERE c.relname LIKE '%\\_gin'"
                )
            ).all()
        )
    assert "ix_feedback_value_gin" in value_plan, value_plan
    assert "ix_runs_attributes_gin" in attributes_plan, attributes_plan
    assert opclasses == {"ix_runs_attributes_gin": "jsonb_path_ops", "ix_feedback_value_gin": "jsonb_path_ops"}


def test_run_attributes_are_the_document_without_payloads_on_postgresql(db_settings, engine):
    """`lse_run_attributes(data) @> doc` answers like `data @> doc` for the attributes it
    keeps, and leaves out payloads, ids, timestamps, measurements and feedback."""
    if engine.dialect.name != "postgresql":
        pytest.skip("lse_run_attributes exists on PostgreSQL only")
    run = _run("PASS", ("criteria_b",), NOW - timedelta(days=1))
    run["tags"] = ["production", "variant:a"]
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    with engine.connect() as conn:
        attrs = conn.execute(
            text("SELECT lse_run_attributes(data) FROM runs WHERE run_id = :r"), {"r": run["id"]}
        ).scalar_one()
        found = conn.execute(
            text("SELECT count(*) FROM runs WHERE lse_run_attributes(data) @> CAST(:doc AS jsonb)"),
            {"doc": json.dumps({"tags": ["variant:a"], "name": run["name"]})},
        ).scalar_one()
    assert found == 1
    assert attrs["tags"] == ["production", "variant:a"] and attrs["name"] == run["name"]
    for left_out in ("inputs", "outputs", "id", "trace_id", "start_time", "feedback_records", "feedback_stats"):
        assert left_out not in attrs
