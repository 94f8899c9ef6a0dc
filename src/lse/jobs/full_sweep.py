"""Full sweep: fetch each day from LangSmith, then load it into the database.

Every setting is checked, and the database opened (its schema checked), before the
first request: a sweep whose database is unreachable or needs `lse db upgrade` fails at
once, having fetched nothing, instead of after a whole day's requests.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from lse.jobs.fetch import DayReport, fetch_days
from lse.jobs.preflight import check_settings
from lse.langsmith.transport import LangSmithApi
from lse.progress import NullProgress, Progress
from lse.settings import Settings
from lse.store.engine import get_engine
from lse.store.loader import LoadReport, load_day


class SweepDay(BaseModel):
    fetch: DayReport
    load: LoadReport


class SweepReport(BaseModel):
    project: str
    days: list[SweepDay]
    run_api: str | None = None  # the runs query API the sweep settled on

    @property
    def complete(self) -> bool:
        return all(d.fetch.status == "complete" and not d.load.bad_rows_count for d in self.days)


def full_sweep(settings: Settings, project: str, days: list[date], progress: Progress | None = None) -> SweepReport:
    progress = progress or NullProgress()
    check_settings(settings, langsmith=True, database="ready")  # before any request
    engine = get_engine(settings)
    api = LangSmithApi(settings)
    out: list[SweepDay] = []
    try:
        for day in days:
            fetched = fetch_days(settings, project, [day], progress, api=api, raise_on_partial=False).days[0]
            loaded = load_day(settings, project, day, progress, engine=engine)
            out.append(SweepDay(fetch=fetched, load=loaded))
    finally:
        api.close()
    return SweepReport(project=project, days=out, run_api=api.run_api)
