"""The viewer's files ship in the package, and the vendored htmx is the published file."""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "lse" / "web"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # htmx.org@2.0.11 dist/htmx.min.js


def test_vendored_htmx_is_the_npm_release_with_its_licence():
    js = WEB / "static" / "htmx-2.0.11.min.js"
    assert hashlib.sha256(js.read_bytes()).hexdigest() == HTMX_SHA256
    assert "Zero-Clause BSD" in (WEB / "static" / "htmx-2.0.11.LICENSE").read_text()
    assert HTMX_SHA256 in (ROOT / "docs" / "viewer.md").read_text()


def test_every_template_and_static_file_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lse"]
    files = [
        p.relative_to(ROOT / "src" / "lse").as_posix() for d in ("templates", "static") for p in (WEB / d).rglob("*")
    ]
    missing = [
        f
        for f in files
        if Path(ROOT / "src" / "lse" / f).is_file() and not any(fnmatch.fnmatch(f, p) for p in patterns)
    ]
    assert files and not missing, missing


def test_no_page_loads_anything_from_another_site():
    for path in (WEB / "templates").glob("*.html"):
        text = path.read_text()
        assert "://" not in text, path.name
