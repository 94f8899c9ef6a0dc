"""The viewer in a real browser (Debian's headless Chromium, driven by Playwright).

One browser for the session, one fresh context (cookies, storage) per test; every page
of every test is watched for console errors and uncaught script errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from world import ACME_PROJECT, DAYS, GLOBEX_MARK, GLOBEX_PROJECT, World, matching, totals

from lse.evals import runs
from lse.web.views.evaluations import score_avg, worst_first_key

TIMEOUT_MS = 15_000


class Watched:
    """A page whose console errors are collected; `expect_status` names error statuses a
    test provokes on purpose (the browser logs those as console errors)."""

    def __init__(self, context, base: str):
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.base = base
        self.errors: list[str] = []
        self.expected: set[int] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, msg) -> None:
        if msg.type != "error":
            return
        text = msg.text
        if any(f"status of {code}" in text for code in self.expected):
            return
        self.errors.append(text)

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page


@pytest.fixture
def open_page(browser, server_url) -> Iterator:
    contexts = []
    pages: list[Watched] = []

    def make() -> Watched:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        contexts.append(context)
        watched = Watched(context, server_url)
        pages.append(watched)
        return watched

    yield make
    for c in contexts:
        c.close()
    errors = [e for p in pages for e in p.errors]
    assert not errors, errors


def signed_in(open_page, key: str, start: str = "/archive") -> Watched:
    w = open_page()
    page = w.go(start)
    assert "/login" in page.url  # not signed in yet: sent to the form, remembering where to go
    page.fill("#api_key", key)
    page.click("#sign-in")
    page.wait_for_url(w.base + start)
    return w


def bar_values(page, chart: str, series: str) -> list[float]:
    return [
        float(v)
        for v in page.eval_on_selector_all(
            f"svg#{chart} rect.bar[data-series='{series}']", "els => els.map(e => e.getAttribute('data-value'))"
        )
    ]


def test_sign_in_then_the_archive_shows_langsmiths_numbers_and_draws_its_charts(open_page, world: World):
    w = signed_in(open_page, world.acme_key)
    page = w.page
    truth = world.truth[ACME_PROJECT]
    t = totals(truth)
    assert page.inner_text("#tenant") == "acme / support"
    assert page.inner_text("#days-archived") == str(t["days"])
    assert page.inner_text("#runs-count") == f"{t['runs']:,}"
    assert page.inner_text("#traces-count") == f"{t['traces']:,}"
    assert page.inner_text("#feedback-coverage") == "100.0%"
    for verdict, n in t["verdicts"].items():
        assert page.inner_text(f".verdict-count[data-verdict='{verdict}']") == f"{verdict} {n:,}"
    # The verdicts chart draws one bar segment per day and verdict, with the right heights.
    assert sum(bar_values(page, "verdicts-chart", "PASS")) == t["verdicts"]["PASS"]
    assert sum(bar_values(page, "verdicts-chart", "FAIL")) == t["verdicts"]["FAIL"]
    box = page.locator("svg#verdicts-chart rect.bar").first.bounding_box()
    assert box and box["height"] > 0 and box["width"] > 0
    # The criteria chart: the share of FAIL verdicts on which each criterion was true.
    fail_true: dict[str, int] = {}
    for day in truth.values():
        for name, n in day.criteria.get("FAIL", {}).items():
            fail_true[name] = fail_true.get(name, 0) + n
    drawn = page.eval_on_selector_all(
        "svg#criteria-chart rect.bar[data-series='on FAIL']",
        "els => Object.fromEntries(els.map(e => [e.getAttribute('data-label'), e.getAttribute('data-value')]))",
    )
    for name, n in fail_true.items():
        assert float(drawn[name]) == pytest.approx(round(100 * n / t["verdicts"]["FAIL"], 1))
    assert GLOBEX_PROJECT not in page.content()


def test_runs_filtered_by_verdict_and_a_runs_trace_and_feedback(open_page, world: World):
    w = signed_in(open_page, world.acme_key, "/archive/runs")
    page = w.page
    page.select_option("#verdict", "FAIL")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**verdict=FAIL**")
    ids = set(page.eval_on_selector_all("#runs-table tbody tr[data-run-id]", "els => els.map(e => e.dataset.runId)"))
    assert ids == matching(world.truth[ACME_PROJECT], "FAIL", None, roots=True)
    for row in page.locator("#runs-table tbody tr").all():
        assert "FAIL" in row.inner_text()
    # One run: its native feedback records and its trace.
    page = w.go(f"/archive/runs/{world.example_run_id}")
    rows = page.locator("#feedback-table tbody tr[data-feedback-id]")
    assert rows.count() >= 1
    verdict_row = page.locator("#feedback-table tr[data-key='final_verdict']").first
    assert "Human verdict" in verdict_row.locator(".feedback-comment").inner_text()
    assert '"verdict"' in verdict_row.locator(".feedback-value").inner_text()
    assert page.locator("#trace-tree tr.current").get_attribute("data-run-id") == world.example_run_id
    assert page.locator("#trace-tree tbody tr").count() >= 1


def test_monitoring_shows_the_status_of_each_fetched_day(open_page, world: World):
    w = signed_in(open_page, world.acme_key, "/monitoring")
    page = w.go("/monitoring?days=90")  # the sandbox days lie in the past; the fetches were just now
    days = set(page.eval_on_selector_all(".fetches-table tr[data-kind='fetch']", "els => els.map(e => e.dataset.day)"))
    assert days == {d.isoformat() for d in DAYS}
    assert page.locator(".alerts-table tr[data-level='SUCCESS']").count() == len(DAYS)
    assert page.locator(".alerts-table tr[data-level='CRITICAL']").count() == 0
    assert GLOBEX_PROJECT not in page.content()


def test_an_evaluation_page_histogram_worst_items_filters_and_csv(open_page, world: World, tmp_path):
    detail = runs.get_run(world.settings, world.acme, world.run_a, include_results=True)
    w = signed_in(open_page, world.acme_key, "/evaluations")
    page = w.page
    row = page.locator(f"#eval-runs tr[data-run-id='{world.run_a}']")
    assert row.locator(".mode").inner_text() == "fast"
    assert row.locator(".score").inner_text() == f"{score_avg(detail):.4f}"
    page.click(f"#eval-runs tr[data-run-id='{world.run_a}'] a")
    page.wait_for_url(f"**/evaluations/{world.run_a}")
    assert page.inner_text("#run-status") == "completed"
    assert page.inner_text("#score-avg") == f"{score_avg(detail):.4f}"
    scored = [r for r in detail.results if r.score is not None]
    assert sum(int(v) for v in bar_values(page, "score-histogram", "items")) == len(scored)
    first = page.locator("#items-table tbody tr").first.get_attribute("data-item-id")
    assert int(first) == min(detail.results, key=worst_first_key).item_id
    with page.expect_download() as download:
        page.click("#csv-download")
    path = tmp_path / "results.csv"
    download.value.save_as(path)
    assert "'=HYPERLINK" in path.read_text()
    page.select_option("#category-filter", "geography")
    page.click("#item-filters button[type=submit]")
    page.wait_for_url("**category=geography**")
    cats = page.eval_on_selector_all("#items-table tbody tr td:nth-child(2)", "els => els.map(e => e.textContent)")
    assert cats and set(cats) == {"geography"}


def test_two_runs_compared_item_by_item(open_page, world: World):
    a = runs.get_run(world.settings, world.acme, world.run_a, include_results=True)
    b = runs.get_run(world.settings, world.acme, world.run_b, include_results=True)
    w = signed_in(open_page, world.acme_key, "/evaluations")
    page = w.page
    page.select_option("#compare-form select[name=a]", str(world.run_a))
    page.select_option("#compare-form select[name=b]", str(world.run_b))
    page.click("#compare-form button[type=submit]")
    page.wait_for_url("**/evaluations/compare**")
    deltas = page.eval_on_selector_all("#compare-table tbody tr", "els => els.map(e => e.dataset.delta)")
    assert len(deltas) == len(a.results)
    scores_a = {r.item_id: r.score for r in a.results}
    expected = sorted((abs(r.score - scores_a[r.item_id]) for r in b.results), reverse=True)
    assert [abs(float(d)) for d in deltas] == pytest.approx(expected)
    assert page.locator("svg#compare-histogram rect.bar").count() > 0


def test_a_run_started_from_the_page_completes_and_its_page_updates(open_page, world: World, web_openai):
    w = signed_in(open_page, world.acme_key, "/evaluations")
    page = w.page
    web_openai.faults.responses_latency_ms = 1500  # long enough to see the run in progress
    try:
        page.fill("#start-run-form input[name=experiment_name]", "started in the browser")
        page.select_option("#start-run-form select[name=dataset_id]", str(world.upload_dataset_id))
        page.select_option("#start-run-form select[name=config_id]", world.config_id)
        page.check("#start-run-form input[name=run_mode][value=fast]")
        page.click("#start-run")
        page.wait_for_url("**/evaluations/*")
        url = page.url
        assert page.inner_text("#run-status") in ("pending", "processing")
        assert page.locator("svg#score-histogram rect.bar").count() == 0
        expect(page.locator("#run-status")).to_have_text("completed", timeout=TIMEOUT_MS)
        page.wait_for_selector("svg#score-histogram rect.bar")  # the page reloaded itself with the results
        assert page.url == url
    finally:
        web_openai.faults.responses_latency_ms = 0
    run_id = int(url.rsplit("/", 1)[1])
    done = runs.get_run(world.settings, world.acme, run_id)
    assert done.status == "completed" and done.progress.done == done.total_items
    assert page.inner_text("#run-done") == f"{done.total_items} / {done.total_items}"


def test_the_other_projects_key_never_sees_this_projects_data(open_page, world: World):
    w = signed_in(open_page, world.globex_key)
    page = w.page
    assert page.inner_text("#tenant") == "globex / other"
    for path in ("/archive", "/archive/runs", "/monitoring?days=90", "/evaluations", "/datasets"):
        text = w.go(path).content()
        assert ACME_PROJECT not in text and "first try" not in text and "geo-bio" not in text, path
    assert GLOBEX_MARK in w.go("/evaluations").content()
    w.expected = {404}
    page = w.go(f"/evaluations/{world.run_a}")
    assert page.inner_text("h1") == "Not found"
    page = w.go(f"/archive/runs/{world.example_run_id}")
    assert page.inner_text("h1") == "Not found"
