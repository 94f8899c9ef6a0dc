"""Upgrading a database with evaluation history keeps every row of it, on both backends:
no migration may rebuild a table whose children cascade (on SQLite, dropping the old
table would delete every run's jobs and item results)."""

from __future__ import annotations

from sqlalchemy import text

from lse.store.engine import make_engine
from lse.store.migrate import current_revision, head_revision, upgrade_to_head

ROWS = [
    "insert into organizations(id,name,created_at) values(1,'o','2026-01-01')",
    "insert into projects(id,organization_id,name,created_at) values(1,1,'p','2026-01-01')",
    "insert into configs(id,organization_id,project_id,name,created_at,updated_at) values('c',1,1,'n','2026-01-01','2026-01-01')",
    "insert into config_versions(id,config_id,version,config_blob,created_at) values(1,'c',1,'{}','2026-01-01')",
    "insert into evaluation_datasets(id,organization_id,project_id,name,duplication_factor,total_items,original_items,created_at) values(1,1,1,'d',1,1,1,'2026-01-01')",
    "insert into evaluation_dataset_items(id,dataset_id,position,question_id,duplicate_index,question,answer) values(1,1,0,1,0,'q','a')",
    "insert into evaluation_runs(id,organization_id,project_id,run_name,run_mode,status,dataset_id,dataset_name,config_id,config_version,total_items,items_succeeded,items_failed,created_at,updated_at) values(1,1,1,'r','fast','completed',1,'d','c',1,1,1,0,'2026-01-01','2026-01-01')",
    "insert into evaluation_jobs(id,run_id,job_type,status,created_at) values(1,1,'response_fast','completed','2026-01-01')",
    "insert into evaluation_item_results(id,run_id,item_id,status,attempts,score_status,created_at,updated_at) values(1,1,1,'succeeded',1,'scored','2026-01-01','2026-01-01')",
]
TABLES = (
    "evaluation_runs",
    "evaluation_jobs",
    "evaluation_item_results",
    "config_versions",
    "evaluation_dataset_items",
)


def test_upgrade_from_0004_keeps_runs_jobs_and_results(db_url):
    engine = make_engine(db_url)
    upgrade_to_head(engine, "0004_runs_data_lz4")
    with engine.begin() as conn:
        for row in ROWS:
            conn.execute(text(row))
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"select count(*) from {t}")).scalar() for t in TABLES}
        seed = conn.execute(text("select trace_seed from evaluation_runs")).scalar()
        public_id = conn.execute(text("select public_id from config_versions")).scalar()
    assert counts == dict.fromkeys(TABLES, 1)
    assert seed and len(public_id) == 36
    engine.dispose()
