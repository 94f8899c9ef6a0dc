"""Re-fetching the retention window: recover rationale, keep expired days, merge edits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from lse.archive.reader import iter_stored_runs
from lse.archive.writer import write_runs
from lse.jobs.fetch import fetch_days
from lse.jobs.refetch import refetch_window
from lse.records import FeedbackStatus, feedback_status_of
from lse.sandbox.langsmith import SandboxSpec
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.store.loader import load_day
from lse.store.models.archive import FeedbackRow, RunRow

DAYS = [date(2026, 11, 19), date(2026, 11, 20)]
KEY = "sandbox-key"


def cfg(tmp_path, sb, db_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        langsmith_endpoint=sb.url,
        langsmith_api_key=KEY,
        request_delay_ms=0,
        retry_base_wait_s=0.01,
    )


def strip_to_old_format(settings: Settings, project: str, day: date) -> None:
    """Rewrite a day as an archive written before feedback capture existed."""
    old = []
    for run in iter_stored_runs(settings, project, day):
        for key in ("feedback_records", "feedback_fetch_status", "feedback_fetch_error"):
            run.pop(key, None)
        old.append(run)
    write_runs(settings, project, day, old)


def counts(settings):
    engine = get_engine(settings)
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(RunRow)),
            conn.scalar(select(func.count()).select_from(FeedbackRow)),
        )


def test_refetch_recovers_rationale_lost_by_old_fetches(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS, traces_per_day=15)], api_key=KEY)
    settings = cfg(tmp_path, sb, db_url)
    fetch_days(settings, "demo-project", DAYS)
    for day in DAYS:
        strip_to_old_format(settings, "demo-project", day)
        report = load_day(settings, "demo-project", day)
        assert report.feedback["unknown"] > 0
    runs_before, feedback_before = counts(settings)
    assert feedback_before == 0  # old files carry no records: "unknown", not "none"

    result = refetch_window(settings, "demo-project", DAYS)
    assert [d.date for d in result.days] == DAYS
    for d in result.days:
        assert d.status == "complete"
        assert d.rationale_records_before == 0 and d.rationale_recovered > 0
        assert d.runs_after == d.runs_before
    for day in DAYS:
        for run in iter_stored_runs(settings, "demo-project", day):
            if run.get("feedback_stats"):
                assert feedback_status_of(run) is FeedbackStatus.FETCHED
    runs_after, feedback_after = counts(settings)
    assert runs_after == runs_before and feedback_after > 0


def test_expired_day_is_kept_and_reported(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS, traces_per_day=10)], api_key=KEY)
    settings = cfg(tmp_path, sb, db_url)
    refetch_window(settings, "demo-project", DAYS)
    archived = {d: len(list(iter_stored_runs(settings, "demo-project", d))) for d in DAYS}
    in_db = counts(settings)
    sb.world.expire_before(datetime(2026, 11, 20, tzinfo=UTC))  # the 19th is gone upstream
    result = refetch_window(settings, "demo-project", DAYS, restart=True)
    first, second = result.days
    assert first.status == "expired upstream" and first.upstream_runs < first.runs_before
    assert first.runs_after == first.runs_before == archived[DAYS[0]]
    assert second.status == "complete"
    assert len(list(iter_stored_runs(settings, "demo-project", DAYS[0]))) == archived[DAYS[0]]
    assert counts(settings) == in_db


def test_edited_and_late_feedback_are_merged(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS[1:], traces_per_day=10)], api_key=KEY)
    settings = cfg(tmp_path, sb, db_url)
    refetch_window(settings, "demo-project", DAYS[1:])
    runs = list(iter_stored_runs(settings, "demo-project", DAYS[1]))
    with_fb = next(r for r in runs if r["feedback_records"])
    no_fb = next(r for r in runs if not r.get("feedback_stats"))
    edited = sb.world.edit_feedback(with_fb["feedback_records"][0]["id"], comment="edited by a reviewer")
    late = sb.world.add_feedback(
        no_fb["id"], "final_verdict", value={"verdict": "FAIL", "rationale": {"criteria_a": True}}, score=0
    )
    result = refetch_window(settings, "demo-project", DAYS[1:], restart=True)
    assert result.days[0].feedback_records_after == result.days[0].feedback_records_before + 1
    stored = {r["id"]: r for r in iter_stored_runs(settings, "demo-project", DAYS[1])}
    recs = {f["id"]: f for f in stored[with_fb["id"]]["feedback_records"]}
    assert recs[edited["id"]]["comment"] == "edited by a reviewer"
    assert [f["id"] for f in stored[no_fb["id"]]["feedback_records"]] == [late["id"]]
    engine = get_engine(settings)
    with engine.connect() as conn:
        comment = conn.scalar(select(FeedbackRow.comment).where(FeedbackRow.feedback_id == edited["id"]))
        late_row = conn.scalar(
            select(func.count()).select_from(FeedbackRow).where(FeedbackRow.feedback_id == late["id"])
        )
    assert comment == "edited by a reviewer" and late_row == 1


def test_expired_day_with_missing_feedback_is_incomplete_not_expired(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS[1:], traces_per_day=10)], api_key=KEY)
    settings = cfg(tmp_path, sb, db_url).model_copy(update={"max_retries": 0})
    refetch_window(settings, "demo-project", DAYS[1:])
    runs = list(iter_stored_runs(settings, "demo-project", DAYS[1]))
    sb.world.drop_runs([r["id"] for r in runs if not r.get("parent_run_id")][:2])  # partly expired
    sb.faults.feedback_status = 500
    result = refetch_window(settings, "demo-project", DAYS[1:], restart=True)
    day = result.days[0]
    assert day.expired_upstream and day.status == "incomplete"
    assert not result.complete and "feedback" in result.problems[0]
    assert day.runs_after == day.runs_before  # nothing archived was lost


def test_a_failing_day_does_not_stop_the_others_and_is_retried(tmp_path, make_langsmith_sandbox, db_url):
    sb = make_langsmith_sandbox([SandboxSpec(days=DAYS, traces_per_day=8, hard_cases=False)], api_key=KEY)
    settings = cfg(tmp_path, sb, db_url).model_copy(update={"max_retries": 0})
    sb.faults.server_error_every = 1
    sb.faults.only_kinds = {"runs_query"}
    result = refetch_window(settings, "demo-project", DAYS)
    assert [f.date for f in result.failed_days] == DAYS and not result.complete
    sb.faults.server_error_every = 0
    again = refetch_window(settings, "demo-project", DAYS)
    assert again.complete and [d.date for d in again.days] == DAYS
