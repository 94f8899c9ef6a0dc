"""`lse report`: the viewer's pages as one file that needs nothing else to open."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from world import ACME_PROJECT, World, totals

from helpers.cli import lse_env, run_lse
from lse.evals import runs


class _Refs(HTMLParser):
    """Every tag and every attribute that could load something or leave the file."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "data") and value:
                self.refs.append(f"{tag}[{name}]={value}")


def _check_self_contained(html: str) -> _Refs:
    refs = _Refs()
    refs.feed(html)
    assert "script" not in refs.tags and "form" not in refs.tags
    # Only the inline favicon remains; no stylesheet, script or page on any server.
    assert all(r.endswith("=data:,") for r in refs.refs), refs.refs
    assert "<style>" in html and "svg.chart" in html
    return refs


def test_archive_report_is_one_self_contained_file_with_the_numbers(world: World, tmp_path):
    env = lse_env(LSE_DATA_DIR=str(world.settings.data_dir))
    out = tmp_path / "archive.html"
    r = run_lse("report", "archive", "--project", ACME_PROJECT, "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stderr and r.stdout == ""
    html = out.read_text(encoding="utf-8")
    _check_self_contained(html)
    t = totals(world.truth[ACME_PROJECT])
    assert re.search(rf'id="runs-count">{t["runs"]:,}<', html)
    assert re.search(rf'id="traces-count">{t["traces"]:,}<', html)
    assert html.count('data-series="FAIL"') >= 1 and 'id="criteria-chart"' in html
    fail_rows = len(re.findall(r'<tr data-run-id="', html))
    assert fail_rows >= t["verdicts"]["FAIL"] or fail_rows == 100  # every FAIL-verdict run, up to 100


def test_evaluation_reports_one_run_and_two_compared(world: World, tmp_path):
    env = lse_env(LSE_DATA_DIR=str(world.settings.data_dir))
    detail = runs.get_run(world.settings, world.acme, world.run_a, include_results=True)
    one = tmp_path / "run.html"
    r = run_lse("report", "eval", str(world.run_a), "--org", "acme", "--project", "support", "-o", str(one), env=env)
    assert r.returncode == 0, r.stderr
    html = one.read_text(encoding="utf-8")
    _check_self_contained(html)
    assert len(re.findall(r'<tr data-item-id="', html)) == len(detail.results)
    assert 'id="score-histogram"' in html and "=HYPERLINK" in html  # shown as text, escaped, never a link
    two = tmp_path / "compare.html"
    r = run_lse("report", "eval", str(world.run_a), "--compare", str(world.run_b), "-o", str(two), env=env)
    assert r.returncode == 0, r.stderr
    html = two.read_text(encoding="utf-8")
    _check_self_contained(html)
    assert len(re.findall(r'<tr data-item-id="', html)) == len(detail.results)


def test_report_errors_are_one_line(world: World, tmp_path):
    env = lse_env(LSE_DATA_DIR=str(world.settings.data_dir))
    r = run_lse("report", "archive", "--project", "no-such-project", "-o", str(tmp_path / "x.html"), env=env)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "no archived project" in r.stderr
    r = run_lse("report", "eval", str(world.run_a), "--org", "acme", env=env)
    assert r.returncode == 2 and "both --org and --project" in r.stderr
    r = run_lse("report", "eval", str(world.globex_run), "--org", "acme", "--project", "support", env=env)
    assert r.returncode == 1 and "not found" in r.stderr
    assert not (tmp_path / "x.html").exists()
