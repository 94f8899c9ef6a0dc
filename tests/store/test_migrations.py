"""Migrations bring any database to head, on SQLite and PostgreSQL, without losing data."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store.engine import get_engine, make_engine
from lse.store.loader import load_day
from lse.store.migrate import current_revision, db_status, head_revision, upgrade_to_head
from lse.store.models.archive import FeedbackRow, RunRow


def test_empty_database_is_upgraded_on_first_use(db_settings):
    engine = get_engine(db_settings)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"runs", "feedback", "fetch_records"} <= tables
    assert db_status(engine).up_to_date


def test_database_at_0001_with_data_upgrades_without_loss(db_settings, db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0001_archive")
    assert current_revision(engine) == "0001_archive"
    run = make_run(feedback=[])
    run["feedback_records"] = [make_feedback(run, verdict="FAIL", true_factors=("criteria_a",))]
    write_day(db_settings, PROJECT, DAY, [run, make_run(status=None, feedback=None)])
    report = load_day(db_settings, PROJECT, DAY, engine=engine)
    assert report.runs_inserted == 2
    with engine.connect() as conn:
        before_runs = conn.execute(select(RunRow.__table__).order_by(RunRow.run_id)).all()
        before_fb = conn.execute(select(FeedbackRow.__table__)).all()

    upgrade_to_head(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(select(RunRow.__table__).order_by(RunRow.run_id)).all() == before_runs
        assert conn.execute(select(FeedbackRow.__table__)).all() == before_fb
    engine.dispose()


def test_upgrade_is_a_no_op_at_head(db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_models_match_the_migrations(engine):
    """The archive models and 0001_archive describe the same schema (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from lse.store.base import Base

    ours = {"runs", "feedback", "fetch_records"}
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)

    def table_of(diff) -> str:
        if isinstance(diff, list):  # modify_* ops: [(op, schema, table, column, ...)]
            return diff[0][2]
        op, obj = diff[0], diff[1]
        if op.endswith(("_index", "_constraint")):
            return obj.table.name
        return obj.name if op.endswith("_table") else diff[2]

    def postgres_only(diff) -> bool:  # ddl_if(dialect="postgresql") is not seen by autogenerate
        return engine.dialect.name != "postgresql" and diff[0] == "add_index" and diff[1].name.endswith("_gin")

    assert [d for d in diffs if table_of(d) in ours and not (isinstance(d, tuple) and postgres_only(d))] == []


def test_runs_data_is_compressed_with_lz4_on_postgresql(db_settings, engine):
    """Run documents are above the TOAST threshold; where the server has LZ4, they are
    stored with it (migration 0004), the old rows' pglz still reading back the same."""
    if engine.dialect.name != "postgresql":
        pytest.skip("column compression is PostgreSQL's")
    with engine.connect() as conn:
        has_lz4 = conn.execute(
            text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
    if not has_lz4:
        pytest.skip("this PostgreSQL has no LZ4")
    run = make_run(feedback=[], inputs={"question": "why? " * 2000})  # ~10 KB: compressed
    write_day(db_settings, PROJECT, DAY, [run])
    load_day(db_settings, PROJECT, DAY)
    with engine.connect() as conn:
        method = conn.execute(text("SELECT pg_column_compression(data) FROM runs")).scalar_one()
        stored = conn.execute(select(RunRow.data)).scalar_one()
    assert method == "lz4" and stored == run


def _seed_evaluation_at_0004(conn) -> None:
    """One organization → project → config → dataset(item) → run with a job and an item result."""
    t = "'2026-01-01 00:00:00'"
    conn.execute(text(f"INSERT INTO organizations(id, name, created_at) VALUES (1, 'o', {t})"))
    conn.execute(text(f"INSERT INTO projects(id, organization_id, name, created_at) VALUES (1, 1, 'p', {t})"))
    conn.execute(
        text(
            "INSERT INTO configs(id, organization_id, project_id, name, created_at, updated_at) "
            f"VALUES ('c', 1, 1, 'c', {t}, {t})"
        )
    )
    conn.execute(
        text(
            "INSERT INTO evaluation_datasets(id, organization_id, project_id, name, duplication_factor, "
            f"total_items, original_items, created_at) VALUES (1, 1, 1, 'd', 1, 1, 1, {t})"
        )
    )
    conn.execute(
        text(
            "INSERT INTO evaluation_dataset_items(id, dataset_id, position, question_id, duplicate_index, "
            "question, answer) VALUES (1, 1, 0, 0, 0, 'q', 'a')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO evaluation_runs(id, organization_id, project_id, run_name, run_mode, status, dataset_id, "
            "dataset_name, config_id, config_version, total_items, items_succeeded, items_failed, created_at, "
            f"updated_at) VALUES (1, 1, 1, 'r', 'fast', 'completed', 1, 'd', 'c', 1, 1, 1, 0, {t}, {t})"
        )
    )
    conn.execute(
        text(f"INSERT INTO evaluation_jobs(id, run_id, job_type, status, created_at) VALUES (1, 1, 'j', 'ok', {t})")
    )
    conn.execute(
        text(
            "INSERT INTO evaluation_item_results(id, run_id, item_id, status, attempts, score_status, created_at, "
            f"updated_at) VALUES (1, 1, 1, 'succeeded', 1, 'scored', {t}, {t})"
        )
    )


def test_rebuilding_a_parent_table_keeps_its_children(db_url):
    """SQLite alters a column by rebuilding the table; the drop must not cascade to child rows."""
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0004_runs_data_lz4")
    with engine.begin() as conn:
        _seed_evaluation_at_0004(conn)

    upgrade_to_head(engine)

    with engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("evaluation_runs", "evaluation_jobs", "evaluation_item_results")
        }
        seed = conn.execute(text("SELECT trace_seed FROM evaluation_runs WHERE id = 1")).scalar()
    assert counts == {"evaluation_runs": 1, "evaluation_jobs": 1, "evaluation_item_results": 1}
    assert seed and len(seed) == 36
    engine.dispose()
