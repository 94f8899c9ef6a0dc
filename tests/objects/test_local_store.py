"""The local object store: round trip, atomic replace, idempotent delete, no escaping the root."""

from __future__ import annotations

import pytest

from lse.errors import NotFoundError, StorageError, UsageError
from lse.objects import LocalObjectStore, object_store
from lse.settings import Settings


def test_default_store_lives_under_the_data_dir(settings: Settings):
    store = object_store(settings)
    url = store.put_bytes("datasets/1/a.csv", b"q,a\n", "text/csv")
    assert url == (settings.data_dir / "objects" / "datasets/1/a.csv").resolve().as_uri()
    assert store.get_bytes("datasets/1/a.csv") == b"q,a\n"
    assert store.exists("datasets/1/a.csv") and not store.exists("datasets/1/b.csv")
    store.put_bytes("datasets/1/a.csv", b"new")
    assert store.get_bytes("datasets/1/a.csv") == b"new"
    assert [p.name for p in (settings.data_dir / "objects/datasets/1").iterdir()] == ["a.csv"]  # no temp left
    store.delete("datasets/1/a.csv")
    store.delete("datasets/1/a.csv")  # idempotent
    with pytest.raises(NotFoundError):
        store.get_bytes("datasets/1/a.csv")


def test_file_url_setting_and_bad_keys(tmp_path):
    store = object_store(Settings(data_dir=tmp_path / "d", object_store_url=(tmp_path / "elsewhere").as_uri()))
    assert isinstance(store, LocalObjectStore) and store.root == (tmp_path / "elsewhere").resolve()
    for key in ("../x", "/abs", "a//b", "a/./b", ""):
        with pytest.raises(UsageError):
            store.put_bytes(key, b"x")


def test_unwritable_root_is_a_storage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(StorageError):
        LocalObjectStore(blocker).put_bytes("a/b", b"x")
