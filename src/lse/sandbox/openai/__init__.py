"""A local OpenAI-compatible server (Responses, Embeddings, Models, Files, Batches) with injectable faults.

The real `openai` SDK talks to it over loopback, so product code is exercised exactly as in
production, only the endpoint is swapped. Answers, embeddings and usage are deterministic;
the pure functions that compute them are exported so tests can predict results.
See docs/sandbox-openai.md.
"""

from .batch_clock import SandboxClock
from .batch_faults import BatchFaults
from .batch_world import BatchWorld
from .faults import OpenAIFaults
from .model import (
    FIXED_PHRASE,
    Usage,
    compute_usage,
    estimate_tokens,
    sandbox_answer,
    sandbox_embedding,
)
from .responses_input import extract_input_text
from .server import OpenAISandbox, serve_forever
from .stats import SandboxStats

__all__ = [
    "FIXED_PHRASE",
    "BatchFaults",
    "BatchWorld",
    "OpenAIFaults",
    "OpenAISandbox",
    "SandboxClock",
    "SandboxStats",
    "Usage",
    "compute_usage",
    "estimate_tokens",
    "extract_input_text",
    "sandbox_answer",
    "sandbox_embedding",
    "serve_forever",
]
