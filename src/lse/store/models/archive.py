"""Archive tables: runs, feedback, fetch records (see issue 3)."""
