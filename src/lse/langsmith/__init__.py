"""Talking to LangSmith: one SDK client, pacing, retries, the fetch plan, JSON normalisation."""
