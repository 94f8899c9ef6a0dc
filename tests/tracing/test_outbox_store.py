"""The outbox on both backends: the tables migration 0006 creates are the models', the
lease admits one exporter at a time, and a whole export works on PostgreSQL too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers.fast_eval import fast_settings
from helpers.tracing_runs import completed_run, langfuse_settings
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.tracing import TracingExport
from lse.tracing import export_run, tracing_status
from lse.tracing.outbox import claim, release

TABLES = {"tracing_exports", "tracing_export_items", "tracing_datasets", "tracing_dataset_items"}


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_models_match_the_migration(db_settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from lse.store.base import Base

    engine = get_engine(db_settings)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)

    def table_of(diff) -> str:
        if isinstance(diff, list):
            return diff[0][2]
        op, obj = diff[0], diff[1]
        if op.endswith(("_index", "_constraint")):
            return obj.table.name
        return obj.name if op.endswith("_table") else diff[2]

    assert [d for d in diffs if table_of(d) in TABLES] == []


def test_an_export_on_each_backend_with_one_exporter_at_a_time(db_settings, openai_sandbox, langfuse_sandbox) -> None:
    settings = langfuse_settings(fast_settings(db_settings, openai_sandbox), langfuse_sandbox)
    run_id = completed_run(settings)
    (done,) = export_run(settings, run_id, target="langfuse")
    assert (done.state, done.exported) == ("confirmed", 5)
    assert tracing_status(settings, run_id)["langfuse"]["exported"] == 5

    engine = get_engine(settings)
    with unit_of_work(engine) as s:
        export_id = s.query(TracingExport).one().id
    now = datetime.now(UTC)
    assert claim(engine, export_id, "worker-a", 60, now)
    assert not claim(engine, export_id, "worker-b", 60, now + timedelta(seconds=30))  # a's lease holds
    assert claim(engine, export_id, "worker-a", 60, now + timedelta(seconds=30))  # a renews its own
    busy = export_run(settings, run_id, target="langfuse", owner="worker-b")
    assert busy[0].skipped and "another exporter" in busy[0].skipped
    assert claim(engine, export_id, "worker-b", 60, now + timedelta(seconds=120))  # a's lease ran out
    release(engine, export_id, "worker-b")
    assert claim(engine, export_id, "worker-c", 60, now)
