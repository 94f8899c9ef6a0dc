"""Migrations 0006 (batch tables, runs that may end `cancelled`) and 0007 (a run's cancel
request), and no row lost on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from lse.store.engine import make_engine
from lse.store.migrate import current_revision, upgrade_to_head
from lse.store.models.batches import EvaluationBatch, EvaluationBatchRequest
from lse.store.models.evaluation import EvaluationItemResult, EvaluationJob, EvaluationRun

T0 = "2026-01-01 00:00:00"


def _seed(conn) -> None:
    """A finished run with a job and an item result, written as 0005 knew them."""
    rows = [
        "INSERT INTO organizations (id, name, created_at) VALUES (1, 'o', :t)",
        "INSERT INTO projects (id, organization_id, name, created_at) VALUES (1, 1, 'p', :t)",
        "INSERT INTO configs (id, organization_id, project_id, name, created_at, updated_at) VALUES ('c', 1, 1, 'c', :t, :t)",
        "INSERT INTO evaluation_datasets (id, organization_id, project_id, name, duplication_factor, total_items, "
        "original_items, created_at) VALUES (1, 1, 1, 'd', 1, 1, 1, :t)",
        "INSERT INTO evaluation_dataset_items (id, dataset_id, position, question_id, duplicate_index, question, answer) "
        "VALUES (1, 1, 0, 0, 0, 'q', 'a')",
        "INSERT INTO evaluation_runs (id, organization_id, project_id, run_name, run_mode, status, dataset_id, "
        "dataset_name, config_id, config_version, total_items, items_succeeded, items_failed, created_at, updated_at, "
        "trace_seed) VALUES (1, 1, 1, 'r', 'fast', 'completed', 1, 'd', 'c', 1, 1, 1, 0, :t, :t, 'seed')",
        "INSERT INTO evaluation_jobs (id, run_id, job_type, status, created_at) VALUES (1, 1, 'evaluation_fast', 'completed', :t)",
        "INSERT INTO evaluation_item_results (id, run_id, item_id, status, output, attempts, score, score_status, "
        "created_at, updated_at) VALUES (1, 1, 1, 'succeeded', 'answer', 1, 0.5, 'scored', :t, :t)",
    ]
    for sql in rows:
        conn.execute(text(sql), {"t": T0})


def test_upgrading_to_0006_keeps_every_run_job_and_item_result(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0005_run_trace_seed")
    with engine.begin() as conn:
        _seed(conn)
    upgrade_to_head(engine, "0006_evaluation_batches")
    assert current_revision(engine) == "0006_evaluation_batches"
    with engine.connect() as conn:
        assert conn.execute(select(EvaluationRun.run_name, EvaluationRun.status)).all() == [("r", "completed")]
        assert conn.execute(select(EvaluationJob.job_type)).all() == [("evaluation_fast",)]
        assert conn.execute(select(EvaluationItemResult.output, EvaluationItemResult.score)).all() == [("answer", 0.5)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE evaluation_runs SET status = 'cancelled' WHERE id = 1"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE evaluation_runs SET status = 'paused' WHERE id = 1"))
    engine.dispose()


def test_batch_rows_cascade_with_their_run_and_enforce_their_states(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        _seed(conn)
        batch = {
            "run_id": 1,
            "stage": "responses",
            "round": 1,
            "part": 1,
            "client_key": "k",
            "endpoint": "/v1/responses",
            "model": "m",
            "state": "prepared",
            "request_key": "x",
            "request_url": "file:///x",
            "request_sha256": "0" * 64,
            "request_bytes": 1,
            "n_requests": 1,
            "est_input_tokens": 1,
            "anomalies": [],
            "poll_failures": 0,
        }
        conn.execute(insert(EvaluationBatch), [batch])
        conn.execute(
            insert(EvaluationBatchRequest),
            [{"batch_id": 1, "line_no": 1, "custom_id": "lse-r1-i1-a1", "item_id": 1, "attempt": 1}],
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(EvaluationBatch), [{**batch, "client_key": "k2"}])  # same run/stage/round/part
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(EvaluationBatch), [{**batch, "client_key": "k3", "part": 2, "state": "lost"}])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM evaluation_runs WHERE id = 1"))
        assert conn.execute(select(EvaluationBatchRequest.id)).all() == []
    engine.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_batch_models_match_the_migration(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from lse.store.base import Base

    engine = make_engine(db_url)
    upgrade_to_head(engine)
    ours = {"evaluation_batches", "evaluation_batch_requests"}
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)

    def table_of(diff) -> str:
        if isinstance(diff, list):
            return diff[0][2]
        op, obj = diff[0], diff[1]
        if op.endswith(("_index", "_constraint")):
            return obj.table.name
        return obj.name if op.endswith("_table") else diff[2]

    assert [d for d in diffs if table_of(d) in ours] == []
    cancel_column = [d for d in diffs if table_of(d) == "evaluation_runs" and "cancel_requested_at" in str(d)]
    assert cancel_column == []  # 0007 made the column the model declares
    engine.dispose()


def test_upgrading_to_0007_keeps_every_run_and_asks_no_cancel_of_them(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0006_evaluation_batches")
    with engine.begin() as conn:
        _seed(conn)
    upgrade_to_head(engine, "0010_run_cancel_request")
    with engine.connect() as conn:
        rows = conn.execute(select(EvaluationRun.run_name, EvaluationRun.status, EvaluationRun.cancel_requested_at))
        assert rows.all() == [("r", "completed", None)]
        assert conn.execute(select(EvaluationItemResult.output)).all() == [("answer",)]
    engine.dispose()
