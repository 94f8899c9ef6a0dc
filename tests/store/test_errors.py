"""Driver errors are translated once, in store/errors.py: real errors from both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, UniqueConstraint, insert, text

from lse.errors import ConflictError, RowRefused, StorageError
from lse.store.engine import make_engine, unit_of_work
from lse.store.errors import conflict_on, translated


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _names_table(engine):
    meta = MetaData()
    table = Table(
        "names",
        meta,
        Column("id", Integer, primary_key=True),
        Column("name", String),
        UniqueConstraint("name", name="uq_names_name"),
    )
    meta.create_all(engine)
    return table


def test_a_refused_value_is_row_refused_and_a_broken_database_is_not(engine):
    table = _names_table(engine)
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, name="a"))
    with (
        pytest.raises(RowRefused, match=r"^database error while adding a name: "),
        translated("adding a name"),
        engine.begin() as conn,
    ):
        conn.execute(insert(table).values(id=1, name="b"))  # duplicate key: about the row
    with pytest.raises(StorageError) as caught, translated("reading"), engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))  # about the database
    assert not isinstance(caught.value, RowRefused)
    assert "\n" not in str(caught.value)


def test_unit_of_work_translates_and_rolls_back(engine):
    table = _names_table(engine)
    with pytest.raises(RowRefused), unit_of_work(engine) as session:
        session.execute(insert(table).values(id=1, name="a"))
        session.execute(insert(table).values(id=2, name="a"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM names")).scalar_one() == 0


def test_conflict_on_names_only_its_own_constraint(engine):
    table = _names_table(engine)
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, name="a"))
    conflict = ConflictError("name a exists")
    with (
        pytest.raises(ConflictError),
        conflict_on("uq_names_name", "names", ("name",), conflict),
        engine.begin() as conn,
    ):
        conn.execute(insert(table).values(id=2, name="a"))
    # the primary key is another constraint: an error, never disguised as the conflict
    with (
        pytest.raises(RowRefused),
        conflict_on("uq_names_name", "names", ("name",), conflict),
        engine.begin() as conn,
    ):
        conn.execute(insert(table).values(id=1, name="b"))
