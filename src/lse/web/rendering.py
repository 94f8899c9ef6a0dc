"""Jinja2 templates shared by the served pages and the one-file reports.

Autoescaping is on for every template, so text from traces, datasets and model outputs
is always shown, never interpreted. `standalone=True` (reports) inlines the stylesheet
and leaves out navigation, forms and scripts.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from lse import __version__
from lse.web.views.evaluations import cost_total, score_avg

HTMX = "htmx-2.0.11.min.js"

# Served pages only run our own script and style files; nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _usd(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"${float(value):.6f}"
    except (TypeError, ValueError):
        return str(value)


def _dt(value: datetime | date | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def _brief(value: Any, length: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= length else text[: length - 1] + "…"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lse.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, pct=_pct, score=_score, usd=_usd, dt=_dt, pretty=_pretty, brief=_brief)
    env.globals.update(version=__version__, htmx=HTMX, score_avg=score_avg, cost_total=cost_total)
    return env


@lru_cache(maxsize=1)
def inline_css() -> Markup:
    """The stylesheet, for a report's <style>; it holds no `</style>` to break out of."""
    css = resources.files("lse.web").joinpath("static/viewer.css").read_text(encoding="utf-8")
    return Markup(css.replace("</", "<\\/"))


def render(template: str, **context: Any) -> str:
    context.setdefault("standalone", False)
    context.setdefault("viewer", None)
    context.setdefault("csrf", None)
    context.setdefault("nav", "")
    context.setdefault("error", None)
    context.setdefault("notice", None)
    if context["standalone"]:
        context.setdefault("inline_css", inline_css())
    return environment().get_template(template).render(**context)
