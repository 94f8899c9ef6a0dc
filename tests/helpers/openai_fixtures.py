"""Pytest fixtures for the local OpenAI-compatible server."""
