"""The table declarations (params/tables): one per table, checked on load, used everywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpilib.errors import ConfigError
from kpilib.tables import declarations_hash, load_tables, read_booleans


@pytest.fixture
def decl_dir(tmp_path: Path, project_root: Path) -> Path:
    d = tmp_path / "tables"
    shutil.copytree(project_root / "params" / "tables", d)
    return d


def _edit(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_every_input_table_is_declared_once_with_its_sources() -> None:
    ts = load_tables()
    assert list(ts.tables)[:2] == ["tickets", "events"]
    assert set(ts.tables) == {
        "tickets", "events", "report_submissions", "council_resolutions", "key_projects",
        "survey_responses", "directives", "line_requests", "manual_results", "conditions",
        "monthly_figures",
    }  # fmt: skip
    sources = {name: t.table for name, t, _ in ts.sources()}
    assert sources["traffy-dump"] == sources["traffy-api-v2"] == "tickets"
    assert sources["event-log"] == "events"
    headers = [frozenset(src.header) for _, _, src in ts.sources()]
    assert len(set(headers)) == len(headers)  # a header names one source only


@pytest.mark.parametrize(
    ("file", "edit", "words"),
    [
        ("events.yaml", lambda d: d.update(bogus=1), "bogus"),
        ("events.yaml", lambda d: d["columns"]["event"].update(type="word"), "columns.event.type"),
        ("events.yaml", lambda d: d.update(key=["nope"]), "key names undeclared"),
        ("tickets.yaml", lambda d: d["sources"]["traffy-dump"]["read"].update(nope="comment"),
         "not in its header"),
        ("tickets.yaml", lambda d: d["sources"]["traffy-dump"]["read"].pop("ticket_id"),
         "required column(s) ['ticket_id']"),
        ("tickets.yaml", lambda d: d["sources"]["traffy-dump"].update(naive_tz="Mars/Base"),
         "unknown time zone"),
        ("reading.yaml", lambda d: d["booleans"]["false_words"].append("yes"), "both true and false"),
        ("directives.yaml", lambda d: d.update(table="council"), "must be declared in council.yaml"),
    ],
)  # fmt: skip
def test_bad_declarations_are_config_errors_naming_file_and_field(
    decl_dir: Path, file: str, edit, words: str
) -> None:
    _edit(decl_dir / file, edit)
    with pytest.raises(ConfigError) as err:
        load_tables(decl_dir)
    assert file in str(err.value) or file.replace(".yaml", "") in str(err.value)
    assert words in str(err.value)


def test_a_source_declared_twice_is_refused(decl_dir: Path) -> None:
    _edit(decl_dir / "events.yaml", lambda d: d["sources"].update(
        {"traffy-dump": d["sources"]["event-log"]}))  # fmt: skip
    with pytest.raises(ConfigError, match="declared by tickets and events"):
        load_tables(decl_dir)


@pytest.mark.parametrize(
    ("text", "value", "bad"),
    [("true", True, False), (" YES ", True, False), ("ใช่", True, False), ("0", False, False),
     ("ไม่จริง", False, False), ("maybe", False, True), ("", False, False)],
)  # fmt: skip
def test_boolean_words(text: str, value: bool, bad: bool) -> None:
    got, unreadable = load_tables().reading.booleans.read(pd.Series([text]))
    assert (bool(got.iloc[0]), bool(unreadable.iloc[0])) == (value, bad)
    assert bool(read_booleans(pd.Series([text])).iloc[0]) is value


def test_read_booleans_passes_bool_columns_through() -> None:
    assert read_booleans(pd.Series([True, False])).tolist() == [True, False]


def test_declarations_hash_follows_the_files(decl_dir: Path) -> None:
    before = declarations_hash(decl_dir)
    assert before == declarations_hash(decl_dir)
    _edit(decl_dir / "events.yaml", lambda d: d.update(description="changed"))
    assert declarations_hash(decl_dir) != before
