"""Multipart bodies the SDK writes: runs (`post.<id>`, `post.<id>.inputs` …, optionally
zstd-compressed as a whole) and examples (`<id>`, `<id>.inputs`, `<id>.outputs`)."""

from __future__ import annotations

import io
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import zstandard

from lse.sandbox.langsmith.ledger import WriteError

MAX_DECOMPRESSED = 256 * 1024 * 1024


def decode(body: bytes, content_encoding: str) -> bytes:
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "zstd":
        try:
            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)) as reader:
                data = reader.read(MAX_DECOMPRESSED + 1)
        except zstandard.ZstdError as exc:
            raise WriteError(400, f"body is not valid zstd: {exc}") from exc
        if len(data) > MAX_DECOMPRESSED:
            raise WriteError(400, "decompressed body is too large")
        return data
    raise WriteError(400, f"unsupported Content-Encoding {encoding!r}")


def parts(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """(name, payload) of every form-data part, in order."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise WriteError(400, "expected a multipart/form-data body with a boundary")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise WriteError(400, "multipart body could not be parsed")
    out: list[tuple[str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise WriteError(400, "every multipart part needs a form-data name")
        payload = part.get_payload(decode=True)
        out.append((name, payload if isinstance(payload, bytes) else b""))
    return out


def load_json(name: str, payload: bytes) -> Any:
    try:
        return json.loads(payload or b"null")
    except ValueError as exc:
        raise WriteError(400, f"part {name!r} is not JSON") from exc


def group(named: list[tuple[str, bytes]], *, with_operation: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """Parts regrouped per object: {(operation, id): {"": main object, "inputs": …}}.

    Run bodies name parts `<operation>.<id>[.<field>]`; example bodies `<id>[.<field>]`
    (operation ""). Attachments are refused: the sandbox does not store files.
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, payload in named:
        pieces = name.split(".")
        if with_operation:
            if len(pieces) < 2:
                raise WriteError(400, f"unexpected part name {name!r}")
            operation, obj_id, rest = pieces[0], pieces[1], pieces[2:]
        else:
            operation, obj_id, rest = "", pieces[0], pieces[1:]
        if operation == "attachment" or (rest and rest[0] in ("attachment", "attachments")):
            raise WriteError(400, "attachments are not supported by the sandbox")
        field = ".".join(rest)
        out.setdefault((operation, obj_id), {})[field] = load_json(name, payload)
    return out
