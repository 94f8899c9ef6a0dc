"""The arrows of docs/architecture.md, read from the imports under src/lse/."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lse"

BASE = {"settings", "errors", "progress", "retry", "schema_types", "private_files", "__init__"}
ALLOWED: dict[str, set[str]] = {
    "settings": set(),
    "errors": set(),
    "progress": set(),
    "retry": set(),
    "schema_types": set(),
    "private_files": set(),
    "records": set(),
    "langsmith": {"records"},
    "archive": {"records"},
    "store": {"records", "archive"},
    "monitoring": {"store", "records", "archive"},
    "jobs": {"langsmith", "archive", "store", "monitoring", "records"},
    "tenancy": {"store"},
    "objects": set(),
    "providers": set(),
    "datasets": {"store", "archive", "objects", "records", "tenancy"},
    "evals": {"store", "providers", "objects", "datasets", "tenancy"},
    "worker": {"evals", "store", "providers", "objects", "datasets", "tenancy", "tracing"},
    # exports of stored results; evals never imports it: scoring never depends on a trace
    "tracing": {"store", "evals", "providers", "objects", "tenancy"},
    "api": {
        "store",
        "tenancy",
        "datasets",
        "evals",
        "objects",
        "worker",
        "monitoring",
        "jobs",
        "records",
        "archive",
        "providers",
        "tracing",
        "web",
    },
    # the viewer: a skin over the same services as the API (api/app.py mounts it)
    "web": {"store", "tenancy", "datasets", "evals", "worker", "monitoring", "records"},
    "cli": {"*"},
    "sandbox": set(),
}
SKIN_LIBS = {"typer", "rich", "fastapi", "starlette", "celery", "uvicorn"}
MAY_USE_SKIN_LIBS = {
    "cli": SKIN_LIBS,
    "api": {"fastapi", "starlette", "uvicorn"},
    "web": {"fastapi", "starlette"},
    "worker": {"celery", "uvicorn"},
    "sandbox": {"fastapi", "starlette", "uvicorn"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_parts_import_only_what_they_may():
    problems = []
    for path in SRC.rglob("*.py"):
        part = _part(path)
        if part == "__init__" or part not in ALLOWED:
            if part not in ALLOWED and part != "__init__":
                problems.append(f"{path.relative_to(SRC)}: part {part!r} is not in the architecture table")
            continue
        allowed = ALLOWED[part]
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "lse":
                parts = name.split(".")
                if len(parts) < 2:
                    continue
                target = parts[1]
                if part == "sandbox" and target != "sandbox":
                    problems.append(
                        f"{path.relative_to(SRC)} imports {name} (the sandbox speaks only public protocols)"
                    )
                    continue
                if target == part or target in BASE or "*" in allowed:
                    continue
                if target not in allowed:
                    problems.append(f"{path.relative_to(SRC)} imports {name}")
            elif top in SKIN_LIBS and top not in MAY_USE_SKIN_LIBS.get(part, set()):
                problems.append(f"{path.relative_to(SRC)} imports {top} (services stay skin-free)")
    assert not problems, "\n".join(problems)


def test_scoring_never_depends_on_a_trace():
    """No engine module imports the tracing exports (they read stored results afterwards)."""
    offenders = [
        str(path.relative_to(SRC))
        for path in (SRC / "evals").rglob("*.py")
        if any(name.split(".")[:2] == ["lse", "tracing"] for name in _imports(path))
    ]
    assert offenders == []
