"""The workspace: creation, migrations, version refusal, tables as Arrow and pandas."""

from __future__ import annotations

import json

import duckdb
import pytest

from wholejob.errors import SchemaVersionError, WorkspaceError
from wholejob.schema import ENTITIES, ENTITY_ORDER
from wholejob.workspace import (
    DATABASE_FILE,
    META_TABLE,
    SCHEMA_VERSION,
    init_workspace,
    open_workspace,
)


def test_init_creates_config_database_and_every_table(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    assert (tmp_path / "ws" / "wholejob.toml").is_file()
    assert (tmp_path / "ws" / DATABASE_FILE).is_file()
    assert ws.schema_version == SCHEMA_VERSION
    assert ws.counts() == {name: 0 for name in ENTITY_ORDER}
    for name, ent in ENTITIES.items():
        assert ws.table(name).columns == tuple(ent.column_names)
    ws.close()


def test_init_twice_keeps_data_and_config(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.raw.execute("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Ann')")
    cfg = ws.config.model_copy(update={"currency": "EUR"})
    ws.save_config(cfg)
    ws.close()
    again = init_workspace(tmp_path / "ws")
    assert again.config.currency == "EUR"
    assert again.counts()["reps"] == 1
    again.close()


def test_tables_as_arrow_and_pandas(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.raw.execute("INSERT INTO reps (rep_id, name, quota) VALUES ('r1', 'Ann', 1000.5)")
    arrow = ws.to_arrow("reps")
    assert arrow.column("rep_id").to_pylist() == ["r1"]
    frame = ws.to_pandas("reps")
    assert frame.loc[0, "quota"] == 1000.5
    with pytest.raises(WorkspaceError, match="unknown table 'nope'"):
        ws.table("nope")
    ws.close()


def test_open_missing_workspace_says_what_to_run(tmp_path):
    with pytest.raises(WorkspaceError, match="wholejob init"):
        open_workspace(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkspaceError, match="not a wholejob workspace"):
        open_workspace(tmp_path / "empty")


def test_newer_schema_is_refused_with_clear_message(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.close()
    con = duckdb.connect(str(tmp_path / "ws" / DATABASE_FILE))
    con.execute(
        f"UPDATE {META_TABLE} SET value = ? WHERE key = 'schema_version'",
        [str(SCHEMA_VERSION + 1)],
    )
    con.execute(f"UPDATE {META_TABLE} SET value = '9.9.9' WHERE key = 'written_by'")
    con.close()
    with pytest.raises(SchemaVersionError, match=r"written by wholejob 9\.9\.9.*upgrade wholejob"):
        open_workspace(tmp_path / "ws")


def test_old_database_is_migrated_forward(tmp_path):
    # A database with no meta table is schema 0: opening it runs every migration.
    (tmp_path / "ws").mkdir()
    duckdb.connect(str(tmp_path / "ws" / DATABASE_FILE)).close()
    ws = open_workspace(tmp_path / "ws")
    assert ws.schema_version == SCHEMA_VERSION
    assert set(ENTITY_ORDER) <= set(ws.con.list_tables())
    ws.close()


def test_transaction_rolls_back_on_error(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(RuntimeError), ws.transaction() as raw:
        raw.execute("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Ann')")
        raise RuntimeError("boom")
    assert ws.counts()["reps"] == 0
    ws.close()


def test_second_writer_gets_clear_lock_message(tmp_path):
    import subprocess
    import sys

    ws = init_workspace(tmp_path / "ws")
    _ = ws.raw  # hold the database open for writing in this process
    code = (
        "import sys\n"
        "from wholejob.workspace import open_workspace\n"
        "from wholejob.errors import WorkspaceLockedError\n"
        "try:\n"
        f"    open_workspace({str(tmp_path / 'ws')!r})\n"
        "except WorkspaceLockedError as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 3, out.stderr
    assert "in use by another wholejob process" in out.stdout
    ws.close()


def test_status_shows_the_last_import_to_the_second(tmp_path, canonical):
    from typer.testing import CliRunner

    from wholejob.cli.app import app

    ws_dir = tmp_path / "st"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws_dir)]).exit_code == 0
    before = runner.invoke(app, ["status", "-w", str(ws_dir)])
    assert before.exit_code == 0 and "Last import: never" in before.output
    assert runner.invoke(app, ["import", str(canonical), "-w", str(ws_dir)]).exit_code == 0
    after = runner.invoke(app, ["status", "-w", str(ws_dir), "-f", "json"])
    last = json.loads(after.output)["last_import"]
    shown = runner.invoke(app, ["status", "-w", str(ws_dir)]).output
    stamp = last["finished_at"][:19].replace("T", " ")
    assert f"Last import: {stamp} local time, import {last['import_id']}" in shown
