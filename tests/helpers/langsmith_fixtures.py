"""Pytest fixtures for the local LangSmith-compatible server."""
