"""Writing a round's request lines into JSONL files on disk, split by the provider's limits.

Lines are written as they are built, one file at a time, so memory holds one line (and the
small line index) however large the run. A file is closed before the next line would take
it over `max_requests`, `max_bytes`, `max_tokens` or `split_tokens`; a line that alone exceeds
one of the first three cannot go in any batch and is reported as `Oversized` instead (one over
`split_tokens`, a target, goes in a file of its own).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lse.evals.batch.bodies import BodyFn, custom_id, estimate_tokens, request_line
from lse.evals.batch.config import BatchLimits


@dataclass(frozen=True)
class RequestRef:
    line_no: int  # 1-based, as the provider numbers lines
    custom_id: str
    item_id: int


@dataclass
class RequestFile:
    path: Path
    n_bytes: int = 0
    est_tokens: int = 0
    refs: list[RequestRef] = field(default_factory=list)
    _sha: Any = field(default_factory=hashlib.sha256, repr=False)

    @property
    def n_requests(self) -> int:
        return len(self.refs)

    @property
    def sha256(self) -> str:
        return str(self._sha.hexdigest())


@dataclass(frozen=True)
class Oversized:
    item_id: int
    custom_id: str
    reason: str


def _too_big(line: bytes, tokens: int, limits: BatchLimits) -> str | None:
    if len(line) > limits.max_bytes:
        return f"its request line is {len(line):,} bytes, over the {limits.max_bytes:,}-byte batch file limit"
    if limits.max_tokens is not None and tokens > limits.max_tokens:
        return f"its request is ~{tokens:,} tokens, over the {limits.max_tokens:,}-token batch budget"
    return None


def write_request_files(
    items: Iterable[tuple[int, str]],
    *,
    run_id: int,
    attempt: int,
    endpoint: str,
    params: dict[str, Any],
    body_for: BodyFn,
    limits: BatchLimits,
    directory: Path,
    name: str = "requests",
) -> Iterator[RequestFile | Oversized]:
    """Yield each finished file (closed, on disk under `directory`) and each oversized item."""
    current: RequestFile | None = None
    fh: BinaryIO | None = None
    count = 0
    try:
        for item_id, question in items:
            cid = custom_id(run_id, item_id, attempt)
            line = request_line(cid, endpoint, body_for(params, question))
            tokens = estimate_tokens(line)
            reason = _too_big(line, tokens, limits)
            if reason is not None:
                yield Oversized(item_id, cid, reason)
                continue
            if current is not None and (
                current.n_requests >= limits.max_requests
                or current.n_bytes + len(line) > limits.max_bytes
                or (limits.max_tokens is not None and current.est_tokens + tokens > limits.max_tokens)
                or (limits.split_tokens is not None and current.est_tokens + tokens > limits.split_tokens)
            ):
                assert fh is not None
                fh.close()
                yield current
                current, fh = None, None
            if current is None:
                count += 1
                current = RequestFile(directory / f"{name}-{count}.jsonl")
                fh = current.path.open("wb")
            assert fh is not None
            fh.write(line)
            current._sha.update(line)
            current.n_bytes += len(line)
            current.est_tokens += tokens
            current.refs.append(RequestRef(current.n_requests + 1, cid, item_id))
        if current is not None and fh is not None:
            fh.close()
            fh = None
            yield current
    finally:
        if fh is not None:
            fh.close()
