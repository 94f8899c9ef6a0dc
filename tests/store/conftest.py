"""Store fixtures: an engine on the parametrised SQLite/PostgreSQL database, and a way
to make the database itself refuse one row (to prove a bad row is isolated)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from lse.settings import Settings
from lse.store.engine import get_engine


@pytest.fixture
def engine(db_settings: Settings) -> Engine:
    return get_engine(db_settings)


@pytest.fixture
def refuse_run() -> Callable[..., None]:
    return _refuse_run


def _refuse_run(engine: Engine, *run_ids: str) -> None:
    """Install a trigger that makes the database reject writes of these run ids, standing
    in for any value a backend refuses."""
    listed = ", ".join(f"'{r}'" for r in run_ids)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_run() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.run_id IN ({listed}) THEN RAISE EXCEPTION 'refused row %', NEW.run_id; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_run BEFORE INSERT OR UPDATE ON runs FOR EACH ROW EXECUTE FUNCTION refuse_run()"
                )
            )
        else:
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse_run BEFORE INSERT ON runs WHEN NEW.run_id IN ({listed}) "
                    "BEGIN SELECT RAISE(ABORT, 'refused row'); END"
                )
            )
