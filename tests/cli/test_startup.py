"""`lse` starts light: building the command tree loads no database layer or provider SDK,
so `lse --help` and every command's own work start fast (each command loads what it uses)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "openai", "langsmith", "langfuse", "boto3", "celery", "numpy", "fastapi")


def test_the_command_tree_loads_no_heavy_library() -> None:
    probe = (
        "import sys, json; from lse.cli.main import app; import typer.main as t; t.get_command(app); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    )
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
