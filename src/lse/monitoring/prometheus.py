"""The status figures in the Prometheus text exposition format (node-exporter textfile)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from lse.monitoring.alerts import Level
from lse.monitoring.deprecations import KIND as DEPRECATION
from lse.monitoring.deprecations import header_time
from lse.monitoring.figures import FetchFigures
from lse.monitoring.status import StatusReport


def exposition(report: StatusReport) -> str:
    registry = CollectorRegistry()
    labels = ["project", "day"]

    def gauge(name: str, doc: str, label_names: list[str] = labels) -> Gauge:
        return Gauge(name, doc, label_names, registry=registry)

    coverage = gauge(
        "lse_feedback_coverage_ratio", "Runs with feedback_stats whose native records were captured, as a share."
    )
    failure = gauge(
        "lse_feedback_extraction_failure_ratio",
        "Runs with feedback_stats whose feedback could not be fetched, as a share.",
    )
    api_err = gauge("lse_api_error_ratio", "Errors and 429s per LangSmith request.")
    per_k = gauge("lse_fetch_seconds_per_1000_runs", "Extraction time per 1,000 runs.")
    per_trace = gauge("lse_fetch_seconds_per_trace", "Extraction time per trace.")
    runs = gauge("lse_fetch_runs", "Runs archived by the fetch.")
    records = gauge("lse_fetch_feedback_records", "Native feedback records archived by the fetch.")
    requests = gauge("lse_fetch_requests", "LangSmith requests made by the fetch.")
    finished = gauge("lse_fetch_finished_timestamp_seconds", "When the fetch finished (Unix time).")
    latest: dict[tuple[str, str], FetchFigures] = {}
    for fig in report.fetches:  # oldest first: the last fetch of a day wins
        latest[(fig.project, fig.day.isoformat())] = fig
    for (project, day), fig in latest.items():
        for g, value in (
            (coverage, fig.feedback_coverage_rate),
            (failure, fig.feedback_failure_rate),
            (api_err, fig.api_error_rate),
            (per_k, fig.seconds_per_1000_runs),
            (per_trace, fig.seconds_per_trace),
            (runs, fig.runs),
            (records, fig.feedback_records),
            (requests, fig.requests),
            (finished, fig.finished_at.timestamp() if fig.finished_at else None),
        ):
            if value is not None:
                g.labels(project, day).set(value)
    run_api = gauge(
        "lse_fetch_run_api", "The runs query API that answered the fetch (1 on its label).", [*labels, "api"]
    )
    for (project, day), fig in latest.items():
        if fig.run_api:
            run_api.labels(project, day, fig.run_api).set(1)
    deprecated = gauge(
        "lse_langsmith_deprecated_endpoint",
        "1 for each LangSmith endpoint that answered with Deprecation/Sunset headers in the window.",
        ["project", "endpoint", "sunset"],
    )
    sunset_at = gauge(
        "lse_langsmith_endpoint_sunset_timestamp_seconds",
        "When LangSmith says a deprecated endpoint goes away (Unix time, from its Sunset header).",
        ["project", "endpoint"],
    )
    for alert in report.alerts:
        if alert.kind != DEPRECATION or not alert.endpoint:
            continue
        deprecated.labels(alert.project, alert.endpoint, alert.sunset or "").set(1)
        when = header_time(alert.sunset)
        if when is not None:
            sunset_at.labels(alert.project, alert.endpoint).set(when.timestamp())
    days_total = gauge("lse_refetch_days_total", "Days asked by the latest re-fetch.", ["project"])
    days_done = gauge("lse_refetch_days_done", "Days done by the latest re-fetch.", ["project"])
    processed = gauge("lse_refetch_runs_processed", "Runs processed by the latest re-fetch.", ["project"])
    for prog in report.refetch:
        days_total.labels(prog.project).set(prog.days_total)
        days_done.labels(prog.project).set(prog.days_done)
        processed.labels(prog.project).set(prog.runs_processed)
    alerts = Gauge("lse_alerts", "Alerts raised in the status window, by level.", ["level"], registry=registry)
    for level in Level:
        alerts.labels(level.value).set(sum(1 for a in report.alerts if a.level == level))
    worst = Gauge(
        "lse_status_exit_code",
        "Worst alert level as the status exit code (0 ok, 1 warning, 2 critical).",
        registry=registry,
    )
    worst.set(report.exit_code)
    return generate_latest(registry).decode("utf-8")
