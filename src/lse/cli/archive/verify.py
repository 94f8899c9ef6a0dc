"""`lse archive verify`."""

from lse.cli.archive import app  # noqa: F401
