"""`lse archive to_db`."""

from lse.cli.archive import app  # noqa: F401
