"""Typer skins: parse arguments, call one service function, render. No business logic."""
