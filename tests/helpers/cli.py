"""Run the real `lse` console script in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LSE = str(Path(sys.executable).with_name("lse"))


def lse_env(**env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LSE_", "LANGSMITH_", "LANGCHAIN_", "OPENAI_"))}
    base.update(env)
    return base


def run_lse(
    *args: str, env: dict[str, str], timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run([LSE, *args], env=env, capture_output=True, text=True, timeout=timeout, input=input)


def start_lse(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([LSE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
