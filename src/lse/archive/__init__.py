"""Durable files: one folder per project and UTC day holding runs.jsonl and manifest.json."""
