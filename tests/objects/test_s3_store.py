"""The S3 object store against a real moto server on loopback (HTTP, not an in-process mock),
and a dataset upload through the API that keeps its CSV there."""

from __future__ import annotations

import socket

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from lse.api.app import create_app
from lse.errors import NotFoundError, StorageError
from lse.objects import object_store
from lse.settings import Settings
from lse.tenancy import create_key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=moto_url)
    client.create_bucket(Bucket="lse-bucket")
    return client


def test_round_trip_over_http(s3_env, moto_url, tmp_path):
    settings = Settings(data_dir=tmp_path, object_store_url="s3://lse-bucket/evals", s3_endpoint_url=moto_url)
    store = object_store(settings)
    url = store.put_bytes("datasets/1/a.csv", b"question,answer\n", "text/csv")
    assert url == "s3://lse-bucket/evals/datasets/1/a.csv"
    head = s3_env.head_object(Bucket="lse-bucket", Key="evals/datasets/1/a.csv")
    assert head["ContentType"] == "text/csv"
    assert store.get_bytes("datasets/1/a.csv") == b"question,answer\n"
    assert store.exists("datasets/1/a.csv") and not store.exists("datasets/2/a.csv")
    store.delete("datasets/1/a.csv")
    assert not store.exists("datasets/1/a.csv")
    with pytest.raises(NotFoundError):
        store.get_bytes("datasets/1/a.csv")


def test_botocore_errors_become_storage_errors(s3_env, moto_url, tmp_path):
    missing = object_store(
        Settings(data_dir=tmp_path, object_store_url="s3://no-such-bucket", s3_endpoint_url=moto_url)
    )
    with pytest.raises(StorageError, match="no-such-bucket"):
        missing.put_bytes("k", b"x")
    down = object_store(
        Settings(
            data_dir=tmp_path, object_store_url="s3://lse-bucket", s3_endpoint_url=f"http://127.0.0.1:{_free_port()}"
        )
    )
    with pytest.raises(StorageError):
        down.get_bytes("k")


def test_dataset_upload_keeps_the_csv_in_s3(s3_env, moto_url, db_settings, monkeypatch):
    settings = db_settings.model_copy(update={"object_store_url": "s3://lse-bucket/p", "s3_endpoint_url": moto_url})
    key = create_key(settings, "o", "p").api_key
    data = b"question,answer\nq1,a1\n"
    with TestClient(create_app(settings)) as c:
        r = c.post(
            "/api/v1/evaluations/datasets",
            headers={"X-API-KEY": key},
            data={"dataset_name": "d"},
            files={"file": ("d.csv", data, "text/csv")},
        )
        assert r.status_code == 200, r.json()
        url = r.json()["data"]["object_store_url"]
        assert url.startswith("s3://lse-bucket/p/datasets/")
        assert s3_env.get_object(Bucket="lse-bucket", Key=url.removeprefix("s3://lse-bucket/"))["Body"].read() == data
        ds = r.json()["data"]["dataset_id"]
        signed = c.get(
            f"/api/v1/evaluations/datasets/{ds}", headers={"X-API-KEY": key}, params={"include_signed_url": "true"}
        ).json()["data"]["signed_url"]
        assert signed.startswith(moto_url) and "Signature=" in signed
        assert httpx.get(signed).content == data  # a presigned GET: no credentials needed
        assert c.delete(f"/api/v1/evaluations/datasets/{ds}", headers={"X-API-KEY": key}).status_code == 200
    assert s3_env.list_objects_v2(Bucket="lse-bucket", Prefix="p/").get("KeyCount", 0) == 0
