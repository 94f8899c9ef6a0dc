"""Screenshots of the viewer's main pages for docs/: `python tests/web/make_screenshots.py docs`.

Builds the same seeded world as the browser tests, serves it, signs in and saves PNGs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from browser import launch  # this folder is on sys.path when run as a script
from live_server import live_server
from playwright.sync_api import sync_playwright
from world import build_world

from lse.sandbox.openai import OpenAISandbox

PAGES = {
    "viewer-archive.png": "/archive",
    "viewer-run.png": "/archive/runs/{example_run_id}",
    "viewer-evaluation.png": "/evaluations/{run_a}",
    "viewer-compare.png": "/evaluations/compare?a={run_a}&b={run_b}",
    "viewer-monitoring.png": "/monitoring",
}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, OpenAISandbox(api_key="sk-sandbox") as oa:
        world = build_world(Path(tmp), oa.base_url, "sk-sandbox")
        with live_server(world.settings) as url, sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/login")
            page.fill("#api_key", world.acme_key)
            page.click("#sign-in")
            page.wait_for_url(f"{url}/archive")
            for name, path in PAGES.items():
                page.goto(url + path.format(**vars(world)))
                page.screenshot(path=str(out / name), full_page=False)
                print(out / name)
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
