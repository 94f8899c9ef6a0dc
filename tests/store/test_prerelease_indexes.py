"""Databases made by pre-release builds of 0001 end at head with the same indexes as
any other (migration 0003 cleans up what those builds added)."""

from __future__ import annotations

from sqlalchemy import inspect, text

from lse.store.engine import make_engine
from lse.store.migrate import upgrade_to_head


def test_a_prerelease_index_and_pending_list_setting_are_removed(db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0002_evaluation")
    with engine.begin() as conn:  # what those builds added
        conn.execute(text("CREATE INDEX ix_feedback_key_created_at ON feedback (key, created_at)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER INDEX ix_feedback_value_gin SET (gin_pending_list_limit = 65536)"))

    upgrade_to_head(engine)

    names = {i["name"] for i in inspect(engine).get_indexes("feedback")}
    assert "ix_feedback_key_created_at" not in names
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            options = conn.execute(
                text("SELECT reloptions FROM pg_class WHERE relname = 'ix_feedback_value_gin'")
            ).scalar()
        assert options is None
    engine.dispose()
