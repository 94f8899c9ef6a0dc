"""PostgreSQL: the GIN on runs.data covers the run's attributes, not its payloads.

Revision ID: 0003_runs_attributes_gin
Revises: 0002_evaluation

`ix_runs_data_gin` indexed every path and value of every run document. Measured with
bench/bench_load.py on sandbox runs, building that index alone takes longer than the
bare COPY of the same JSON, so no loader could write runs with it at even half the
COPY rate. Most of its entries were values no containment query asks for: free text
(inputs, outputs, errors), per-run ids and timestamps that already have indexed
columns, token counts and costs (range questions, which GIN cannot answer), and the
feedback records that the `feedback` table indexes row by row.

`lse_run_attributes(data)` is the run document without those keys (a frozen list:
a later revision that changes it recreates the function and the index). Its paths are
the document's own, so `lse_run_attributes(data) @> '{"tags": ["production"]}'` means
exactly `data @> '{"tags": ["production"]}'` and is answered by the index. `data` itself
is unchanged. Nothing else changes on SQLite, which has no GIN.

Building the index blocks writes to `runs` while it runs (about 0.2x the time of a
bare COPY of the table, bench/bench_load.py): upgrade when no load is running.

It also brings databases made by pre-release builds of 0001 to what 0001 now makes:
an index `ix_feedback_key_created_at` some of them created is dropped, and a 64 MB
`gin_pending_list_limit` some of them set on `ix_feedback_value_gin` is reset to the
server's default (docs/storage.md says why the default).
"""

from alembic import op

revision = "0003_runs_attributes_gin"
down_revision = "0002_evaluation"
branch_labels = None
depends_on = None

# Top-level keys left out of the index (frozen at this revision).
NOT_INDEXED = (
    # payloads and free text
    "inputs",
    "outputs",
    "serialized",
    "events",
    "error",
    "inputs_preview",
    "outputs_preview",
    "inputs_s3_urls",
    "outputs_s3_urls",
    "s3_urls",
    # ids, links and ordering keys: one value per run, or an indexed column already
    "id",
    "trace_id",
    "parent_run_id",
    "parent_run_ids",
    "child_run_ids",
    "direct_child_run_ids",
    "dotted_order",
    "app_path",
    "share_token",
    # timestamps (range questions use the start_time column)
    "start_time",
    "end_time",
    "first_token_time",
    "trace_min_start_time",
    "trace_max_start_time",
    # measurements: range questions, which GIN cannot answer
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_token_details",
    "completion_token_details",
    "prompt_cost",
    "completion_cost",
    "total_cost",
    "prompt_cost_details",
    "completion_cost_details",
    # feedback: indexed row by row in the feedback table
    "feedback_stats",
    "feedback_records",
    "feedback_fetch_status",
    "feedback_fetch_error",
)

_KEYS = "{" + ",".join(NOT_INDEXED) + "}"
# IMMUTABLE and a single expression, so the planner inlines it in both the index and
# the queries, and matches them.
_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lse_run_attributes(data jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT data - '{_KEYS}'::text[] $$
"""


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_feedback_key_created_at")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX IF EXISTS ix_feedback_value_gin RESET (gin_pending_list_limit)")
    op.execute(_FUNCTION)
    op.execute("DROP INDEX IF EXISTS ix_runs_data_gin")
    op.execute("CREATE INDEX ix_runs_attributes_gin ON runs USING gin (lse_run_attributes(data) jsonb_path_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_runs_attributes_gin")
    op.execute("DROP FUNCTION IF EXISTS lse_run_attributes(jsonb)")
    op.execute("CREATE INDEX ix_runs_data_gin ON runs USING gin (data jsonb_path_ops)")
