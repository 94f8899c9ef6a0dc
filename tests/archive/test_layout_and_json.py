from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import pytest

from lse.archive.layout import day_dir, list_days, project_slug
from lse.errors import UsageError
from lse.records.jsonl import dumps_line, loads


@pytest.mark.parametrize(
    "name", ["demo", "../../etc", "..", ".", "a/b", "/abs", "a\\b", "Ünï code", ".hidden", "%2E", "~x"]
)
def test_project_names_stay_inside_the_archive(settings, name):
    folder = day_dir(settings, name, date(2026, 11, 20))
    root = settings.archive_dir.resolve()
    assert folder.resolve().parent.parent == root
    assert unquote(project_slug(name)) == name  # the slug never loses the name


def test_distinct_names_get_distinct_folders():
    names = ["a/b", "a%2Fb", "a_b", "A/B", ".", "%2E"]
    assert len({project_slug(n) for n in names}) == len(names)


def test_empty_project_name_is_a_usage_error(settings):
    with pytest.raises(UsageError):
        day_dir(settings, "  ", date(2026, 11, 20))


def test_list_days_ignores_partial_folders(settings):
    d = day_dir(settings, "p", date(2026, 11, 20))
    d.mkdir(parents=True)
    (d / "runs.jsonl").write_text("")
    (d.parent / "2026-11-21").mkdir()
    (d.parent / "junk").mkdir()
    assert list_days(settings, "p") == [date(2026, 11, 20)]


def test_json_round_trip_is_lossless():
    text = (
        '{"cost": 0.000123456789012345678901, "plain": 0.25, "int": 7,'
        ' "nul": "a\\u0000b", "lone": "\\ud800", "emoji": "\\ud83d\\ude00", "deep": [[[1.5]]]}'
    )
    value = loads(text)
    line = dumps_line(value)
    assert line.isascii()
    assert loads(line) == value
    assert "0.000123456789012345678901" in line
