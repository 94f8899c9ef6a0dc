"""Golden datasets: from CSV uploads and from approved archived runs; stored, listed, deleted.

`service` is the one place datasets are written and read (the API, the CLI and the
evaluation engines all go through it); `csv_upload` validates files, `approved` finds
approved pairs in the archive, `from_archive` turns them into a dataset.
"""
