"""The sandbox's deterministic "model": answers, embeddings and token counts.

Everything here is a pure function of its arguments, so a test can compute the exact value
the server will return (or the usage it will bill) without talking to the server. The
shapes are chosen to make evaluation metrics meaningful offline: an answer reuses most of the
question's words (so its cosine similarity with a reference answer varies with overlap), and
an embedding is a hashed bag of words (so texts sharing words point the same way).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

FIXED_PHRASE = "This answer comes from the lse OpenAI sandbox."
DEFAULT_EMBEDDING_DIM = 256
CACHE_MIN_INSTRUCTION_TOKENS = 1024
REASONING_EFFORT_FACTOR = {"none": 0.0, "minimal": 0.25, "low": 0.5, "medium": 1.0, "high": 2.0, "xhigh": 3.0}

_WORD = re.compile(r"\w+", re.UNICODE)


def estimate_tokens(text: str | None) -> int:
    """Approximate OpenAI token count: whitespace-separated words x 1.3, rounded half up.

    A real tokenizer is not available offline; a stable approximation is what lets tests
    predict usage and cost exactly.
    """
    if not text:
        return 0
    return int(len(text.split()) * 1.3 + 0.5)


def _hash64(*parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def sandbox_answer(model: str, instructions: str | None, input_text: str) -> str:
    """The answer text for a question: ~80% of its words, in order, plus a fixed phrase.

    Which words are dropped depends on the model and the instructions, so two models (or two
    prompts) give slightly different answers and therefore different similarity scores.
    """
    words = _WORD.findall(input_text)
    seed = f"{model}\x1e{instructions or ''}"
    kept = [w for i, w in enumerate(words) if _hash64(seed, str(i), w.lower()) % 5 != 0]
    if words and not kept:
        kept = words[:1]
    body = " ".join(kept)
    return f"{body}. {FIXED_PHRASE}" if body else FIXED_PHRASE


def sandbox_embedding(text: str, dim: int = DEFAULT_EMBEDDING_DIM) -> list[float]:
    """Signed feature-hashing of lower-cased word tokens into `dim` buckets, L2-normalised.

    Shared words add the same signed unit to the same bucket, so cosine similarity tracks word
    overlap; unrelated texts land near zero. A text with no word characters hashes as a whole.
    """
    if dim < 1:
        raise ValueError("dim must be >= 1")
    tokens = [t.lower() for t in _WORD.findall(text)] or [text.strip() or text]
    vec = [0.0] * dim
    for token in tokens:
        h = _hash64("emb", token)
        vec[h % dim] += 1.0 if (h >> 40) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:  # every token cancelled out: fall back to a deterministic unit vector
        vec[_hash64("emb-fallback", text) % dim] = 1.0
        return vec
    return [v / norm for v in vec]


def is_reasoning_model(model: str) -> bool:
    """o-series and gpt-5 models bill hidden reasoning tokens as output tokens."""
    return model.startswith(("o", "gpt-5"))


def reasoning_tokens_for(model: str, answer_tokens: int, effort: str | None = None) -> int:
    """Hidden reasoning tokens: 16 + 2 x answer tokens, scaled by reasoning effort (medium = 1)."""
    if not is_reasoning_model(model):
        return 0
    factor = REASONING_EFFORT_FACTOR.get(effort or "medium", 1.0)
    return int((16 + 2 * answer_tokens) * factor)


def cached_tokens_for(instructions: str | None) -> int:
    """Half the instruction tokens count as cached once instructions reach 1024 tokens,
    mimicking prompt caching of a long shared prefix so cached pricing shows up in tests."""
    n = estimate_tokens(instructions)
    return n // 2 if n >= CACHE_MIN_INSTRUCTION_TOKENS else 0


@dataclass(frozen=True)
class Usage:
    """Token usage of one Responses call, in the wire field names' terms."""

    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_wire(self) -> dict:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": self.cached_tokens, "cache_write_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.total_tokens,
        }


def compute_usage(
    model: str,
    instructions: str | None,
    input_text: str,
    answer: str,
    reasoning_effort: str | None = None,
) -> Usage:
    """Usage billed for `answer` (the text actually returned, after any truncation)."""
    answer_tokens = estimate_tokens(answer)
    full_answer_tokens = estimate_tokens(sandbox_answer(model, instructions, input_text))
    reasoning = reasoning_tokens_for(model, full_answer_tokens, reasoning_effort)
    return Usage(
        input_tokens=estimate_tokens(instructions) + estimate_tokens(input_text),
        cached_tokens=cached_tokens_for(instructions),
        output_tokens=answer_tokens + reasoning,
        reasoning_tokens=reasoning,
    )


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """The longest whitespace-word prefix of `text` whose estimate fits in `max_tokens`."""
    words = text.split()
    keep = min(len(words), max(0, int(max_tokens / 1.3) + 1))
    while keep and estimate_tokens(" ".join(words[:keep])) > max_tokens:
        keep -= 1
    return " ".join(words[:keep])
