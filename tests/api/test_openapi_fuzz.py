"""Schemathesis against the app's own OpenAPI schema: whatever it generates, no 5xx and
always the envelope. Bounded examples so it stays a few seconds."""

from __future__ import annotations

import schemathesis
from api_builders import wait_for_runs_to_end
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from lse.api.app import create_app
from lse.tenancy import create_key
from lse.worker import dispatch


def test_no_server_errors_for_generated_requests(api_settings):
    app = create_app(api_settings)
    key = create_key(api_settings, "fuzz", "fuzz").api_key
    with TestClient(app) as client:  # seed one of everything so ids can hit real rows
        h = {"X-API-KEY": key}
        client.post(
            "/api/v1/evaluations/datasets",
            headers=h,
            data={"dataset_name": "d"},
            files={"file": ("d.csv", b"question,answer\nq,a\n", "text/csv")},
        )
        cfg = client.post(
            "/api/v1/configs",
            headers=h,
            json={"name": "c", "config_blob": {"completion": {"provider": "openai", "params": {"model": "m"}}}},
        ).json()
        assert cfg["success"], cfg
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: list[int] = []

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    try:
        for operation in operations:  # every operation gets its share of examples

            @given(case=operation.as_strategy())
            @hsettings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
            def check(case):
                response = case.call(headers={"X-API-KEY": key})
                seen.append(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.text)
                body = response.json()
                assert set(body) == {"success", "data", "error", "metadata"}, body

            check()
        assert any(s < 300 for s in seen) and any(400 <= s < 500 for s in seen)
    finally:  # the ASGI calls ran outside the app's lifespan: end what they started
        wait_for_runs_to_end(api_settings)
        dispatch.stop_background()
