"""Embedding vectors kept in object storage, keyed by sha256(text) within (scope, model).

Ground-truth answers are cached per (dataset, embedding model), so a second run on the
same dataset pays for no ground-truth embeddings; a run's own outputs are cached per run,
so a run that dies during the embeddings stage re-embeds only the batches it had not
finished. One cache is one `.npz` object (keys + float32 matrix), rewritten whole.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re

import numpy as np

from lse.objects.base import ObjectStore

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model) or "model"


def dataset_cache_key(dataset_id: int, model: str) -> str:
    return f"fast-eval/embedding-cache/{_slug(model)}/dataset-{dataset_id}.npz"


def run_cache_key(run_id: int, model: str) -> str:
    return f"fast-eval/runs/{run_id}/output-embeddings-{_slug(model)}.npz"


class EmbeddingCache:
    def __init__(self, store: ObjectStore, key: str):
        self.store = store
        self.key = key
        self.vectors: dict[str, np.ndarray] = {}
        self.dirty = False

    @classmethod
    def load(cls, store: ObjectStore, key: str) -> EmbeddingCache:
        cache = cls(store, key)
        if store.exists(key):
            try:
                with np.load(io.BytesIO(store.get_bytes(key)), allow_pickle=False) as data:
                    keys = data["keys"]
                    mat = data["vectors"]
                cache.vectors = {str(k): mat[i] for i, k in enumerate(keys)}
            except Exception as exc:  # noqa: BLE001 - a damaged cache is only a cache: start afresh
                log.warning(
                    "embedding cache %s is unreadable and will be rebuilt: %s: %s", key, type(exc).__name__, exc
                )
                cache.vectors = {}
        return cache

    def get(self, text: str) -> np.ndarray | None:
        return self.vectors.get(text_key(text))

    def put(self, text: str, vector: np.ndarray) -> None:
        self.vectors[text_key(text)] = np.asarray(vector, dtype=np.float32)
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        keys = list(self.vectors)
        if keys:
            dims = {v.shape for v in self.vectors.values()}
            if len(dims) != 1:  # mixed dimensions cannot share a matrix: keep the majority
                shape = max(dims, key=lambda s: sum(1 for v in self.vectors.values() if v.shape == s))
                keys = [k for k in keys if self.vectors[k].shape == shape]
            mat = np.stack([self.vectors[k] for k in keys])
        else:
            mat = np.zeros((0, 0), dtype=np.float32)
        buf = io.BytesIO()
        np.savez(buf, keys=np.asarray(keys, dtype="U64"), vectors=mat)
        self.store.put_bytes(self.key, buf.getvalue(), content_type="application/octet-stream")
        self.dirty = False
