"""The `day_figures` table says exactly what the day's rows say — after first loads,
reloads, merges that change a verdict, runs moving between days and a load cut off —
on SQLite and PostgreSQL; the migration fills it for days loaded before it existed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from helpers.archive_builders import DAY, PROJECT, make_feedback, make_run, write_day
from lse.store import archive_views as av
from lse.store import day_figures
from lse.store.batch_merge import prepare, write_isolating
from lse.store.engine import make_engine
from lse.store.loader import load_day
from lse.store.migrate import upgrade_to_head
from lse.store.models.archive import DayFiguresRow
from lse.store.upsert import writer_for

NEXT = DAY + timedelta(days=1)


def table(engine: Engine, project: str = PROJECT) -> dict[date, day_figures.DayFigures]:
    """The figures rows as stored, decoded."""
    with engine.connect() as conn:
        days = [d for (d,) in conn.execute(select(DayFiguresRow.run_date).where(DayFiguresRow.project == project))]
        return {d: day_figures.decoded(f) for d, f in day_figures.stored(conn, project, days).items()}


def recount(engine: Engine, days: list[date], project: str = PROJECT) -> dict[date, day_figures.DayFigures]:
    """The same figures counted from the rows now."""
    with engine.connect() as conn:
        counted = day_figures.count(conn, project, days)
    return {d: day_figures.decoded(f) for d, f in counted.items() if f.runs or f.feedback_records}


def reviewed(verdict: str, factors: tuple[str, ...], day: date = DAY, **kw) -> dict:
    run = make_run(feedback=[], day=day, **kw)
    run["feedback_records"] = [make_feedback(run, verdict=verdict, true_factors=factors)]
    return run


def trace(day: date = DAY) -> list[dict]:
    """A reviewed root with an unreviewed child and a child whose feedback was not fetched."""
    root = reviewed("FAIL", ("criteria_a", "criteria_b"), day)
    child = make_run(trace_id=root["trace_id"], parent_run_id=root["id"], feedback=[], day=day)
    lost = make_run(trace_id=root["trace_id"], parent_run_id=root["id"], feedback=None, day=day)
    return [root, child, lost]


def test_a_load_leaves_the_figures_of_its_rows(db_settings, engine):
    runs = trace() + trace() + [reviewed("PASS", ("criteria_a",))]
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)

    figures = table(engine)
    assert figures == recount(engine, [DAY])
    f = figures[DAY]
    assert (f.runs, f.traces, f.feedback_records, f.runs_with_feedback) == (7, 3, 3, 3)
    assert f.feedback_status == {"fetched": 5, "none": 0, "not_fetched": 2, "unknown": 0}
    assert f.verdicts == {"FAIL": 2, "PASS": 1}
    assert f.criteria == {"FAIL": {"criteria_a": 2, "criteria_b": 2}, "PASS": {"criteria_a": 1}}
    assert av.day_figures(engine, PROJECT, DAY) == f


def test_only_true_criteria_of_object_rationales_of_verdicts_are_counted(db_settings, engine):
    """Records share rationales (counted once per record all the same); a rationale that
    is not an object, a value without a verdict or not an object, and criteria that are
    merely truthy count no criterion; names needing the stored form's escape are kept."""
    shapes = [
        {"verdict": "FAIL", "rationale": {"criteria_a": True, "criteria_b": False}},
        {"verdict": "FAIL", "rationale": {"criteria_a": True, "criteria_b": False}},
        {"verdict": "FAIL", "rationale": {"criteria_b": True, "a\x00b": True}},
        {"verdict": "PASS", "rationale": {"criteria_a": 1, "criteria_b": "true", "criteria_c": {"x": True}}},
        {"verdict": "PASS", "rationale": ["criteria_a"]},
        {"verdict": "PASS", "rationale": "criteria_a"},
        {"rationale": {"criteria_a": True}},
        ["FAIL", {"criteria_a": True}],
        "FAIL",
    ]
    runs = []
    for value in shapes:
        run = make_run(feedback=[], day=DAY)
        run["feedback_records"] = [{**make_feedback(run), "value": value}]
        runs.append(run)
    write_day(db_settings, PROJECT, DAY, runs)
    load_day(db_settings, PROJECT, DAY)

    f = table(engine)[DAY]
    assert f == recount(engine, [DAY])[DAY]
    assert f.feedback_records == len(shapes)
    assert f.verdicts == {"FAIL": 3, "PASS": 3}
    assert f.criteria == {"FAIL": {"criteria_a": 2, "criteria_b": 1, "a\x00b": 1}}


def test_reloads_and_merges_that_change_a_verdict_keep_them_exact(db_settings, engine):
    root = reviewed("FAIL", ("criteria_a",))
    write_day(db_settings, PROJECT, DAY, [root, *trace()])
    load_day(db_settings, PROJECT, DAY)
    load_day(db_settings, PROJECT, DAY)  # nothing changes
    assert table(engine) == recount(engine, [DAY])

    # The reviewer changes their mind: a newer version of the same record says PASS.
    record = dict(root["feedback_records"][0])
    later = datetime.fromisoformat(record["modified_at"]) + timedelta(hours=1)
    record.update(
        modified_at=later.astimezone(UTC).isoformat(), value={"verdict": "PASS", "rationale": {"criteria_c": True}}
    )
    write_day(db_settings, PROJECT, DAY, [{**root, "feedback_records": [record]}])
    load_day(db_settings, PROJECT, DAY)

    figures = table(engine)
    assert figures == recount(engine, [DAY])
    assert figures[DAY].verdicts == {"FAIL": 1, "PASS": 1}
    assert figures[DAY].criteria["PASS"] == {"criteria_c": 1}


def test_a_run_moving_to_another_day_leaves_both_days_exact(db_settings, engine):
    moving = reviewed("FAIL", ("criteria_d",))
    write_day(db_settings, PROJECT, DAY, [moving, *trace()])
    load_day(db_settings, PROJECT, DAY)
    write_day(db_settings, PROJECT, NEXT, [moving, *trace(NEXT)])
    load_day(db_settings, PROJECT, NEXT)

    figures = table(engine)
    assert figures == recount(engine, [DAY, NEXT])
    assert figures[DAY].runs == 3 and figures[NEXT].runs == 4
    assert figures[NEXT].criteria["FAIL"]["criteria_d"] == 1 and "criteria_d" not in figures[DAY].criteria["FAIL"]


def test_a_load_cut_off_leaves_no_figures_to_trust(db_settings, engine):
    """Batches that committed without their load ending (a crash, a kill) delete the
    figures they make wrong; the day is then counted from its rows."""
    write_day(db_settings, PROJECT, DAY, trace())
    load_day(db_settings, PROJECT, DAY)
    assert DAY in table(engine)

    extra = reviewed("PASS", ("criteria_b",))
    prepared, bad = prepare([(1, json.dumps(extra).encode())], PROJECT, DAY)
    out = write_isolating(writer_for(engine), prepared, PROJECT, DAY)  # one batch; the load ends there
    assert not bad and out.inserted == 1

    assert DAY not in table(engine)
    assert av.days_figures(engine, PROJECT, [DAY]) == recount(engine, [DAY])
    assert av.day_figures(engine, PROJECT, DAY).runs == 4


def test_the_migration_counts_days_loaded_before_it(db_settings, db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0006_evaluation_batches")
    write_day(db_settings, PROJECT, DAY, [*trace(), reviewed("PASS", ("criteria_a",))])
    write_day(db_settings, PROJECT, NEXT, trace(NEXT))
    write_day(db_settings, "other", DAY, trace())
    for project, day in ((PROJECT, DAY), (PROJECT, NEXT), ("other", DAY)):
        load_day(db_settings, project, day, engine=engine)  # no figures table yet: none kept

    upgrade_to_head(engine)

    assert table(engine) == recount(engine, [DAY, NEXT])
    assert set(table(engine)) == {DAY, NEXT}
    assert table(engine, "other") == recount(engine, [DAY], "other")
    engine.dispose()


def test_loads_of_one_day_at_once_leave_it_exact(db_settings, engine, tmp_path):
    """Two loaders of one project-day, each with its own archive, writing side by side:
    whichever recounts last counts the rows of both."""
    from concurrent.futures import ThreadPoolExecutor

    other = db_settings.model_copy(update={"data_dir": tmp_path / "second"})
    write_day(db_settings, PROJECT, DAY, [r for _ in range(30) for r in trace()])
    write_day(other, PROJECT, DAY, [r for _ in range(30) for r in trace()])
    with ThreadPoolExecutor(2) as pool:
        for report in pool.map(lambda s: load_day(s, PROJECT, DAY, batch_size=7), (db_settings, other)):
            assert report.runs_inserted == 90

    figures = table(engine)
    assert figures == recount(engine, [DAY])
    assert figures[DAY].runs == 180


def test_the_model_matches_its_migration(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from lse.store.base import Base

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mentioned = [d for d in diffs if "day_figures" in repr(d)]
    assert mentioned == []
