"""A local Langfuse-compatible server for the demo and the tests (docs/sandbox-langfuse.md).

It serves what the official `langfuse` SDK calls: OTLP trace export (protobuf, gzip), score
batches, datasets and items, experiments, observations v2, scores v3 and one trace, with
HTTP Basic auth. It keeps every span it receives, duplicates included, and applies
Langfuse's score overwrite rule, so tests can count what a client really sent. It imports
nothing from lse outside `lse.sandbox`.
"""

from lse.sandbox.langfuse.server import LangfuseSandbox, serve_forever
from lse.sandbox.langfuse.state import LangfuseFaults, LangfuseState

__all__ = ["LangfuseFaults", "LangfuseSandbox", "LangfuseState", "serve_forever"]
