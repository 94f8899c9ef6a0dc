"""The Files API's storage: uploaded files and the batch output/error files, in memory.

A file past its `expires_at` (on the sandbox clock) or deleted is gone: metadata and
content answer 404, exactly like a batch output file OpenAI removed after 30 days.
Callers hold the world's lock; this class does no locking of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .errors import SandboxAPIError


@dataclass
class FileRecord:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int
    expires_at: int | None
    deleted: bool = False

    def alive(self, now: float) -> bool:
        return not self.deleted and (self.expires_at is None or now < self.expires_at)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


def file_not_found(file_id: str) -> SandboxAPIError:
    return SandboxAPIError(404, f"No such File object: {file_id}", param="id")


class FileStore:
    def __init__(self) -> None:
        self._files: dict[str, FileRecord] = {}  # insertion order = creation order

    def add(self, filename: str, purpose: str, data: bytes, created_at: float, lifetime_s: float | None) -> FileRecord:
        created = int(created_at)
        expires = None if lifetime_s is None else created + int(lifetime_s)
        record = FileRecord(f"file-{uuid.uuid4().hex[:24]}", filename, purpose, data, created, expires)
        self._files[record.id] = record
        return record

    def get(self, file_id: str, now: float) -> FileRecord:
        record = self._files.get(file_id)
        if record is None or not record.alive(now):
            raise file_not_found(file_id)
        return record

    def find(self, file_id: str, now: float) -> FileRecord | None:
        record = self._files.get(file_id)
        return record if record is not None and record.alive(now) else None

    def delete(self, file_id: str, now: float) -> FileRecord:
        record = self.get(file_id, now)
        record.deleted = True
        record.data = b""
        return record

    def listing(self, now: float, purpose: str | None, order: str) -> list[FileRecord]:
        alive = [f for f in self._files.values() if f.alive(now) and (purpose is None or f.purpose == purpose)]
        alive.sort(key=lambda f: f.created_at)  # stable: creation order breaks ties
        return alive if order == "asc" else alive[::-1]
