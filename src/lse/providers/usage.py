"""Token usage as one small value type, summed over attempts and items.

`cached_tokens` is part of `input_tokens` and `reasoning_tokens` part of `output_tokens`
(that is how the API reports them); cost code prices the parts, never adds them twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Usage:
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0

    def add(self, other: Usage | None) -> Usage:
        if other is not None:
            self.input_tokens += other.input_tokens
            self.cached_tokens += other.cached_tokens
            self.output_tokens += other.output_tokens
            self.reasoning_tokens += other.reasoning_tokens
            self.requests += other.requests
        return self

    def to_dict(self) -> dict[str, int]:
        # spelled out: dataclasses.asdict deep-copies, and this runs once per request line
        return {
            "input_tokens": self.input_tokens,
            "cached_tokens": self.cached_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "requests": self.requests,
        }

    @classmethod
    def from_api(cls, usage: Any) -> Usage | None:
        """From a Responses/Embeddings usage object or dict (None if the call reported none)."""
        if usage is None:
            return None
        get = usage.get if isinstance(usage, dict) else lambda k, d=None: getattr(usage, k, d)

        def sub(obj: Any, key: str) -> int:
            if obj is None:
                return 0
            val = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, 0)
            return int(val or 0)

        input_tokens = get("input_tokens", None)
        if input_tokens is None:  # embeddings report prompt_tokens
            input_tokens = get("prompt_tokens", 0)
        return cls(
            input_tokens=int(input_tokens or 0),
            cached_tokens=sub(get("input_tokens_details", None), "cached_tokens"),
            output_tokens=int(get("output_tokens", 0) or 0),
            reasoning_tokens=sub(get("output_tokens_details", None), "reasoning_tokens"),
            requests=1,
        )
