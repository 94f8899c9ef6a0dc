"""Headless Chromium from the system's packages, driven by Playwright.

Never `playwright install`: the browser is Debian's `chromium` (the Makefile installs it),
launched with a fresh, empty profile and with every background network feature off, so
the only traffic is to the server under test on loopback.
"""

from __future__ import annotations

import os
import shutil

CHROMIUM = os.environ.get("LSE_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_missing() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: run `make test` (installs Debian's chromium) or `apt-get install chromium`"
    try:
        import playwright  # noqa: F401 -- only checking it is installed
    except ImportError:
        return "the playwright package is not installed: run `make install`"
    return None


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
