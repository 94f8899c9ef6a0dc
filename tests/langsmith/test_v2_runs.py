"""A v2 run item mapped to the stored (v1) shape: the table of docs/v2-run-mapping.md."""

from __future__ import annotations

from decimal import Decimal

from lse.langsmith.v2_runs import stored_from_v2
from lse.records.jsonl import dumps_line, loads

ITEM = loads(
    """{
  "id": "r2", "name": "ChatOpenAI", "run_type": "LLM", "status": "SUCCESS",
  "start_time": "2026-11-20T23:59:30.5Z", "end_time": "2026-11-21T01:00:00+01:00",
  "first_token_time": null, "latency_seconds": 29.5, "is_root": false,
  "metadata": {"ls_provider": "openai"}, "extra": {"metadata": {"ls_provider": "openai"}},
  "events": [{"name": "start", "time": "2026-11-20T23:59:30.500000Z"}, {"name": "token", "kwargs": {"t": 1}}],
  "parent_run_ids": ["r0", "r1"], "project_id": "p1", "trace_id": "r0", "is_in_dataset": false,
  "total_cost": 0.000012345678901234567890, "prompt_cost": 1e-05, "completion_cost": null,
  "prompt_token_details": {"raw": {"cache_read": 10}}, "completion_token_details": null,
  "prompt_cost_details": {"raw": {"cache_read": 0.0000025}}, "completion_cost_details": {"raw": {}},
  "inputs_preview": "hi", "query_metadata": null, "attachments": {"a.png": "https://signed"},
  "some_future_field": [1, 2]
}"""
)


def test_names_enums_times_and_derived_fields():
    run = stored_from_v2(ITEM)
    assert run["session_id"] == "p1" and "project_id" not in run
    assert run["parent_run_id"] == "r1" and run["parent_run_ids"] == ["r0", "r1"]
    assert run["in_dataset"] is False and "is_in_dataset" not in run
    assert run["run_type"] == "llm" and run["status"] == "success"
    assert run["start_time"] == "2026-11-20T23:59:30.500000"
    assert run["end_time"] == "2026-11-21T00:00:00.000000"  # +01:00 read as UTC
    assert run["events"] == [
        {"name": "start", "time": "2026-11-20T23:59:30.500000"},
        {"name": "token", "kwargs": {"t": 1}},
    ]
    for derived in ("latency_seconds", "is_root", "metadata", "inputs_preview", "query_metadata"):
        assert derived not in run
    assert run["attachments"] == {"a.png": "https://signed"} and run["some_future_field"] == [1, 2]
    assert list(run)[:5] == ["id", "name", "start_time", "run_type", "end_time"]  # v1's order


def test_costs_are_exact_decimal_strings_and_details_unwrapped():
    run = stored_from_v2(ITEM)
    assert run["total_cost"] == "0.000012345678901234567890"  # every digit, never a float
    assert Decimal(run["prompt_cost"]) == Decimal("0.00001") and run["completion_cost"] is None
    assert run["prompt_token_details"] == {"cache_read": 10} and run["completion_token_details"] is None
    assert run["prompt_cost_details"] == {"cache_read": "0.0000025"} and run["completion_cost_details"] == {}
    assert '"total_cost":"0.000012345678901234567890"' in dumps_line(run)


def test_a_root_and_an_unparseable_time():
    root = stored_from_v2({"id": "r0", "parent_run_ids": [], "start_time": "not a time", "status": "PENDING"})
    assert root["parent_run_id"] is None and root["start_time"] == "not a time" and root["status"] == "pending"
    assert "parent_run_id" not in stored_from_v2({"id": "x"})  # not selected: not invented
