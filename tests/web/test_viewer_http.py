"""The viewer over HTTP: sessions, CSRF, tenant isolation, actions, CSV, headers.

What the browser tests cannot see cheaply (cookie flags, refused requests, what a
request left in the database) is checked here on the real app.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from viewer_client import csrf_of, sign_in, wait_for_runs
from world import ACME_PROJECT, GLOBEX_MARK, GLOBEX_PROJECT, World

from lse.api.app import create_app
from lse.datasets import service as datasets
from lse.errors import ConfigError
from lse.evals import runs
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import ApiKey, EvaluationDataset, EvaluationRun
from lse.tenancy import create_key

PAGES = ("/archive", "/archive/runs", "/monitoring", "/evaluations", "/datasets")


def _login_token(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_sign_in_gives_a_hardened_session_cookie_and_never_keeps_the_key(app_client, world: World):
    r = app_client.get("/archive", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Farchive"

    token = _login_token(app_client)
    bad = app_client.post("/login", data={"api_key": "lse_wrong", "csrf_token": token})
    assert bad.status_code == 401 and "invalid or revoked API key" in bad.text
    assert "lse_session" not in app_client.cookies

    token = _login_token(app_client)
    r = app_client.post(
        "/login", data={"api_key": world.acme_key, "csrf_token": token, "next": "/archive/runs"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/archive/runs"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("lse_session="))
    flags = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower()
    assert world.acme_key not in cookie and world.acme_key[4:20] not in cookie
    assert app_client.get("/archive").status_code == 200


def test_sign_in_refuses_a_forged_form_and_an_open_redirect(app_client, world: World):
    app_client.get("/login")
    forged = app_client.post("/login", data={"api_key": world.acme_key, "csrf_token": "guess"})
    assert forged.status_code == 403
    assert "lse_session" not in app_client.cookies
    token = _login_token(app_client)
    r = app_client.post(
        "/login",
        data={"api_key": world.acme_key, "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_tampered_cookie_or_a_revoked_key_ends_the_session(app_client, world: World):
    extra = create_key(world.settings, "acme", "support")
    sign_in(app_client, extra.api_key)
    assert app_client.get("/evaluations").status_code == 200
    value = app_client.cookies["lse_session"]
    app_client.cookies.clear()
    app_client.cookies.set("lse_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert app_client.get("/evaluations", follow_redirects=False).status_code == 303
    app_client.cookies.clear()
    app_client.cookies.set("lse_session", value)
    assert app_client.get("/evaluations").status_code == 200
    with unit_of_work(get_engine(world.settings)) as s:
        s.execute(update(ApiKey).where(ApiKey.key_prefix == extra.key_prefix).values(revoked_at=datetime.now(UTC)))
    r = app_client.get("/evaluations", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def _run_count(world: World) -> int:
    with unit_of_work(get_engine(world.settings)) as s:
        return len(s.scalars(select(EvaluationRun.id)).all())


def test_actions_need_this_session_csrf_token_and_this_site(app_client, world: World):
    sign_in(app_client, world.acme_key)
    form = {
        "experiment_name": "csrf probe",
        "dataset_id": str(world.upload_dataset_id),
        "config_id": world.config_id,
        "config_version": "1",
        "run_mode": "fast",
    }
    before = _run_count(world)
    assert app_client.post("/evaluations", data=form).status_code == 403
    assert app_client.post("/evaluations", data={**form, "csrf_token": "x" * 43}).status_code == 403
    token = csrf_of(app_client)
    cross = app_client.post(
        "/evaluations", data={**form, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert app_client.post("/logout", data={}).status_code == 403  # even signing out
    assert _run_count(world) == before  # nothing was created by a refused request


# A multipart body whose part has a header line the form parser refuses (a 400 once read).
BROKEN_FORM = b"--x\r\nnot a header line\r\n\r\nv\r\n--x--\r\n"


def test_a_request_without_a_session_is_sent_to_sign_in_before_its_body_is_read(app_client, world: World):
    # Read first, the body would be a 400; the session is checked first, so it is the
    # sign-in redirect, and nothing is made.
    before = len(datasets.list_datasets(world.settings, world.acme))
    for path in ("/datasets", "/evaluations", "/datasets/from-archive"):
        r = app_client.post(
            path,
            content=BROKEN_FORM,
            headers={"content-type": "multipart/form-data; boundary=x"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F", path
    # Signed in (the token in its header), the same body is read and refused as the bad form it is.
    sign_in(app_client, world.acme_key)
    r = app_client.post(
        "/datasets",
        content=BROKEN_FORM,
        headers={"content-type": "multipart/form-data; boundary=x", "X-CSRF-Token": csrf_of(app_client)},
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert len(datasets.list_datasets(world.settings, world.acme)) == before


def test_another_projects_key_sees_none_of_this_projects_data(app_client, world: World):
    sign_in(app_client, world.globex_key)
    for path in PAGES:
        r = app_client.get(path)
        assert r.status_code == 200, path
        assert ACME_PROJECT not in r.text and "first try" not in r.text and "geo-bio" not in r.text, path
    assert GLOBEX_PROJECT in app_client.get("/archive").text
    for path in (
        f"/evaluations/{world.run_a}",
        f"/evaluations/{world.run_a}/results.csv",
        f"/evaluations/{world.run_a}/progress",
        f"/evaluations/compare?a={world.globex_run}&b={world.run_a}",
        f"/archive/runs/{world.example_run_id}",
        f"/archive?project={ACME_PROJECT}",
        f"/archive/runs?project={ACME_PROJECT}",
    ):
        r = app_client.get(path)
        assert r.status_code == 404, path
        assert "first try" not in r.text and "What is the capital" not in r.text
    # Building a dataset from an archived project not granted to this key is refused too.
    token = csrf_of(app_client)
    r = app_client.post(
        "/datasets/from-archive",
        data={
            "csrf_token": token,
            "dataset_name": "stolen",
            "source_project": ACME_PROJECT,
            "start": "2026-11-18",
            "end": "2026-11-20",
        },
    )
    assert r.status_code == 404
    assert all(d.dataset_name != "stolen" for d in datasets.list_datasets(world.settings, world.globex))


def test_this_projects_pages_never_show_the_other_project(app_client, world: World):
    sign_in(app_client, world.acme_key)
    for path in (*PAGES, f"/evaluations/{world.run_a}", f"/archive/runs/{world.example_run_id}"):
        r = app_client.get(path)
        assert r.status_code == 200, path
        assert GLOBEX_MARK not in r.text and GLOBEX_PROJECT not in r.text, path
    assert app_client.get(f"/evaluations/{world.globex_run}").status_code == 404


def test_csv_download_neutralises_formula_cells(app_client, world: World):
    sign_in(app_client, world.acme_key)
    r = app_client.get(f"/evaluations/{world.run_a}/results.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    detail = runs.get_run(world.settings, world.acme, world.run_a, include_results=True)
    assert len(rows) == len(detail.results)
    formula = next(row for row in rows if "HYPERLINK" in row["question"])
    assert formula["question"].startswith("'=HYPERLINK")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
    geo = app_client.get(f"/evaluations/{world.run_a}/results.csv?category=geography")
    assert {row["category"] for row in csv.DictReader(io.StringIO(geo.text))} == {"geography"}


def test_pages_carry_security_headers_and_the_api_keeps_its_envelope(app_client, world: World):
    sign_in(app_client, world.acme_key)
    r = app_client.get("/archive")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    api = app_client.get("/api/v1/no-such-thing", headers={"X-API-KEY": world.acme_key})
    assert api.status_code == 404 and api.json()["success"] is False
    assert app_client.get("/api/v1/no-such-thing").status_code == 401  # the API checks its key first
    listed = app_client.get("/api/v1/evaluations", headers={"X-API-KEY": world.acme_key})
    assert listed.status_code == 200 and listed.json()["success"] is True
    static = app_client.get("/static/viewer.css")
    assert static.status_code == 200 and "svg.chart" in static.text


def test_start_a_run_from_the_form_and_batch_only_when_the_service_has_it(app_client, world: World):
    sign_in(app_client, world.acme_key)
    page = app_client.get("/evaluations").text
    assert 'value="fast"' in page and 'value="batch"' in page  # dispatch.available_modes() == {"fast", "batch"}
    assert 'id="cancel-run"' not in app_client.get(f"/evaluations/{world.run_a}").text  # it has ended
    token = csrf_of(app_client)
    form = {
        "csrf_token": token,
        "experiment_name": "from the form",
        "dataset_id": str(world.upload_dataset_id),
        "config_id": world.config_id,
        "config_version": "1",
    }
    r = app_client.post("/evaluations", data={**form, "run_mode": "fast"}, follow_redirects=False)
    assert r.status_code == 303
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    wait_for_runs(world)
    done = runs.get_run(world.settings, world.acme, run_id)
    assert done.status == "completed" and done.run_mode == "fast" and done.run_name == "from the form"
    dup = app_client.post("/evaluations", data={**form, "run_mode": "fast"})
    assert dup.status_code == 409 and "already exists" in dup.text
    ended = app_client.post(f"/evaluations/{world.run_a}/cancel", data={"csrf_token": token})
    assert ended.status_code == 409 and "nothing to cancel" in ended.text  # the cancel service answered


def test_upload_and_build_datasets_through_the_forms(app_client, world: World):
    sign_in(app_client, world.acme_key)
    token = csrf_of(app_client)
    r = app_client.post(
        "/datasets",
        data={"csrf_token": token, "dataset_name": "form upload", "duplication_factor": "2"},
        files={"file": ("f.csv", b"question,answer\nq1?,a1\nq2?,a2\n,skipped\n", "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    new_id = int(r.headers["location"].rsplit("=", 1)[1])
    made = datasets.get_dataset(world.settings, world.acme, new_id)
    assert (made.dataset_name, made.total_items, made.original_items) == ("form_upload", 4, 2)  # sanitised as Kaapi
    bad = app_client.post(
        "/datasets",
        data={"csrf_token": token, "dataset_name": "not csv"},
        files={"file": ("f.csv", b"name,age\nx,1\n", "text/csv")},
    )
    assert bad.status_code == 422 and "flash error" in bad.text
    r = app_client.post(
        "/datasets/from-archive",
        data={
            "csrf_token": token,
            "dataset_name": "approved via form",
            "source_project": ACME_PROJECT,
            "start": "2026-11-18",
            "end": "2026-11-20",
            "max_items": "3",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    built = datasets.get_dataset(world.settings, world.acme, int(r.headers["location"].rsplit("=", 1)[1]))
    assert built.total_items == 3 and ACME_PROJECT in (built.description or "")
    with unit_of_work(get_engine(world.settings)) as s:
        names = set(s.scalars(select(EvaluationDataset.name)))
    assert "not csv" not in names


def test_a_malformed_archive_grant_stops_the_server_at_start(world: World):
    with pytest.raises(ConfigError, match="LSE_WEB_ARCHIVE_ACCESS"):
        create_app(world.settings.model_copy(update={"web_archive_access": "acme-support=support-prod"}))


def test_only_runs_on_the_same_dataset_are_compared(app_client, world: World):
    sign_in(app_client, world.acme_key)
    r = app_client.get(f"/evaluations/compare?a={world.run_a}&b={world.archive_run}")
    assert r.status_code == 422 and "different datasets" in r.text
    ok = app_client.get(f"/evaluations/compare?a={world.run_a}&b={world.run_b}")
    assert ok.status_code == 200 and ok.text.count('<tr data-item-id="') == 5
