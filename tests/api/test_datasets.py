"""CSV datasets over HTTP: every validation rule, duplication, storage, paging with the
fast-eligibility filter, and delete refused while runs use a dataset."""

from __future__ import annotations

from api_builders import csv_bytes

from lse.objects import object_store
from lse.store.engine import get_engine, unit_of_work
from lse.store.models.evaluation import EvaluationDataset, EvaluationDatasetItem


def _stored_key(api, dataset_id: int) -> str:
    with unit_of_work(get_engine(api.settings)) as s:
        url = s.get(EvaluationDataset, dataset_id).object_store_url
    return object_store(api.settings).key_of(url)


def _err(r, status: int, code: str | None = None) -> str:
    body = r.json()
    assert r.status_code == status, body
    assert body["success"] is False
    if code:
        assert body["metadata"]["code"] == code, body
    return body["error"]


def test_upload_stores_items_duplicated_and_the_original_file(api):
    data = "\ufeff Question ,ANSWER, Category \nq1,a1,x\n, a2,y\nq3,  ,z\nq4,a4,\n\n".encode()
    r = api.upload("golden", data, duplication_factor=3, description="three rows")
    assert r.status_code == 200, r.json()
    d = r.json()["data"]
    assert (d["total_items"], d["original_items"], d["duplication_factor"], d["skipped_rows"]) == (6, 2, 3, 2)
    assert d["eligible_for_fast"] is True and d["description"] == "three rows"
    assert d["object_store_url"] is None  # the local store's path is the server's business
    assert d["langfuse_dataset_id"] is None and d["signed_url"] is None

    with unit_of_work(get_engine(api.settings)) as s:
        items = s.query(EvaluationDatasetItem).filter_by(dataset_id=d["dataset_id"]).order_by("position").all()
        rows = [(i.position, i.question_id, i.duplicate_index, i.question, i.answer, i.category) for i in items]
    assert rows == [
        (0, 1, 0, "q1", "a1", "x"),
        (1, 1, 1, "q1", "a1", "x"),
        (2, 1, 2, "q1", "a1", "x"),
        (3, 2, 0, "q4", "a4", "Other"),  # a blank category is Kaapi's "Other"
        (4, 2, 1, "q4", "a4", "Other"),
        (5, 2, 2, "q4", "a4", "Other"),
    ]
    assert object_store(api.settings).get_bytes(_stored_key(api, d["dataset_id"])) == data

    got = api.client.get(f"/api/v1/evaluations/datasets/{d['dataset_id']}", headers=api.h()).json()["data"]
    assert got["dataset_name"] == "golden" and got["total_items"] == 6


def test_every_validation_rule(api):
    up = api.upload
    assert "csv" in _err(up("a", csv_bytes(2), filename="golden.txt"), 422, "invalid_file_type").lower()
    assert "content type" in _err(up("a", csv_bytes(2), content_type="application/json"), 422, "invalid_file_type")
    big = b"question,answer\n" + b"q,a\n" * 300_000
    _err(up("a", big), 413, "payload_too_large")  # refused by declared length
    just_over = b"question,answer\n" + b"q,a\n" * (1024 * 1024 // 4)
    _err(up("a", just_over), 413, "payload_too_large")  # refused after reading 1 MB + 1 byte
    _err(up("a", b""), 422)
    assert "UTF-8" in _err(up("a", "question,answer\ncafé,crème\n".encode("latin-1")), 422, "invalid_encoding")
    _err(up("a", b"question,answer\nq\x00,a\n"), 422, "invalid_csv")
    assert "answer" in _err(up("a", b"question,reply\nq,a\n"), 422, "missing_columns")
    assert "question, answer" in _err(up("a", b"foo,bar\n1,2\n"), 422, "missing_columns")
    _err(up("a", b"question,answer\n,a\nq,\n"), 422, "no_usable_rows")
    _err(up("a", b"question,answer\n"), 422, "no_usable_rows")
    _err(up("a", csv_bytes(2), duplication_factor=0), 422, "validation_error")
    _err(up("a", csv_bytes(2), duplication_factor=6), 422, "validation_error")
    _err(up("", csv_bytes(2)), 422)
    # a CSV with a BOM and Windows content type is fine; the same name again is 409
    assert (
        up("a", "\ufeffquestion,answer\r\nq,a\r\n".encode(), content_type="application/vnd.ms-excel").status_code == 200
    )
    assert "already exists" in _err(up("a", csv_bytes(2)), 409, "dataset_name_exists")
    # nothing half-stored by the failures: one dataset, one object
    listed = api.client.get("/api/v1/evaluations/datasets", headers=api.h()).json()["data"]
    assert [d["dataset_name"] for d in listed] == ["a"]
    objects = list((api.settings.data_dir / "objects").rglob("*.csv"))
    assert len(objects) == 1


def test_pages_with_the_eligibility_filter_are_true_pages(api):
    # limit is 10 unique rows by default: alternate small (eligible) and big datasets
    names = []
    for i in range(7):
        small = i % 2 == 0
        api.dataset(f"ds{i}", n=3 if small else 12, duplication_factor=2)
        names.append((f"ds{i}", small))
    newest_first = [n for n, _ in reversed(names)]
    eligible = [n for n, small in reversed(names) if small]

    def page(**q):
        r = api.client.get("/api/v1/evaluations/datasets", headers=api.h(), params=q)
        assert r.status_code == 200, r.json()
        return r.json()["data"]

    assert [d["dataset_name"] for d in page(limit=100)] == newest_first
    got = []
    for offset in range(0, 6, 2):
        rows = page(limit=2, offset=offset, eligible_for_fast="true")
        assert all(d["eligible_for_fast"] for d in rows)
        got += [d["dataset_name"] for d in rows]
    assert got == eligible  # 4 eligible across pages of 2: no short or skipped page
    assert len(page(limit=2, offset=0, eligible_for_fast="true")) == 2
    assert [d["dataset_name"] for d in page(eligible_for_fast="false")] == [n for n, s in reversed(names) if not s]
    big = page(eligible_for_fast="false")[0]
    assert big["original_items"] == 12 and big["total_items"] == 24 and big["eligible_for_fast"] is False


def test_delete_refused_while_runs_use_it_then_allowed(api):
    d = api.dataset("golden")
    other = api.dataset("unused")
    cfg = api.config("cfg")
    assert api.start("run-1", d["dataset_id"], cfg["id"]).status_code == 200
    r = api.client.delete(f"/api/v1/evaluations/datasets/{d['dataset_id']}", headers=api.h())
    assert "being used by 1 evaluation run" in _err(r, 400, "dataset_in_use")  # Kaapi answers 400

    key = _stored_key(api, other["dataset_id"])
    r = api.client.delete(f"/api/v1/evaluations/datasets/{other['dataset_id']}", headers=api.h())
    data = r.json()["data"]
    assert r.status_code == 200 and data["dataset_name"] == "unused" and data["dataset_id"] == other["dataset_id"]
    assert data["message"] == f"Successfully deleted dataset 'unused' (id={other['dataset_id']})"
    assert api.client.get(f"/api/v1/evaluations/datasets/{other['dataset_id']}", headers=api.h()).status_code == 404
    assert not object_store(api.settings).exists(key)
    with unit_of_work(get_engine(api.settings)) as s:
        assert s.query(EvaluationDatasetItem).filter_by(dataset_id=other["dataset_id"]).count() == 0
