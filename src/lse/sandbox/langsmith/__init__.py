"""A local LangSmith-API-compatible server for the demo and the tests (docs/sandbox-langsmith.md).

It serves a deterministic synthetic world (`SandboxSpec` → `World`) over the public
REST protocol the `langsmith` SDK speaks, injects faults on demand (`Faults`) and counts
what crossed the wire. It imports nothing from lse outside `lse.sandbox`.
"""

from lse.sandbox.langsmith.apis import ServerApis
from lse.sandbox.langsmith.counters import Counters
from lse.sandbox.langsmith.faults import Faults
from lse.sandbox.langsmith.server import LangSmithSandbox, serve_forever
from lse.sandbox.langsmith.spec import SandboxSpec, default_demo_spec
from lse.sandbox.langsmith.world import World

__all__ = [
    "Counters",
    "Faults",
    "LangSmithSandbox",
    "SandboxSpec",
    "ServerApis",
    "World",
    "default_demo_spec",
    "serve_forever",
]
