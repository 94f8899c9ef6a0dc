"""Figures from fetch records, alert rules, and Prometheus exposition (docs/monitoring.md)."""
