"""Typer skins: parse arguments, call one service function, render. No business logic.

Commands import the services they call inside their functions, so `lse` starts without
loading SQLAlchemy or any provider SDK (tests/cli/test_startup.py keeps it so).
"""
