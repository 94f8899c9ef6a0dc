"""Request files and result copies reach the object store without a copy in memory, on a local
directory and on S3 (a real moto server on loopback)."""

from __future__ import annotations

import socket
import tracemalloc
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lse.evals.batch.objects_io import open_object, put_file
from lse.objects import LocalObjectStore
from lse.objects.s3 import S3ObjectStore


def test_local_store_round_trip_streams_from_disk(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    src = tmp_path / "big.jsonl"
    src.write_bytes(b'{"custom_id":"x"}\n' * 200_000)  # 3.6 MB
    tracemalloc.start()
    url = put_file(store, "runs/1/requests.jsonl", src)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000  # the file is mapped, not read into the heap
    assert url.startswith("file://") and store.get_bytes("runs/1/requests.jsonl") == src.read_bytes()
    with open_object(store, "runs/1/requests.jsonl") as fh:
        assert sum(1 for _ in fh) == 200_000
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    put_file(store, "runs/1/empty.jsonl", empty)
    assert store.get_bytes("runs/1/empty.jsonl") == b""


@pytest.fixture(scope="module")
def moto_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_s3_store_round_trip(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=moto_url).create_bucket(Bucket="lse-batches")
    store = S3ObjectStore("lse-batches", "evals", endpoint_url=moto_url)
    src = tmp_path / "r.jsonl"
    src.write_bytes(b'{"custom_id":"a"}\n{"custom_id":"b"}\n')
    assert put_file(store, "runs/2/requests.jsonl", src) == "s3://lse-batches/evals/runs/2/requests.jsonl"
    with open_object(store, "runs/2/requests.jsonl") as fh:
        assert fh.read() == src.read_bytes()
