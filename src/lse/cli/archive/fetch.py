"""`lse archive fetch`."""

from lse.cli.archive import app  # noqa: F401
