"""Bad input through the real CLI: each yields the right rejects line and exit code."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import CANONICAL, write_canonical, write_csv
from wholejob.cli.app import app
from wholejob.workspace import Workspace

runner = CliRunner()


def run_import(ws: Workspace, *paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, Any]:
    """Run `wholejob import --format json` and return (exit code, parsed JSON or stderr)."""
    ws.close()  # the CLI opens the workspace itself
    result = runner.invoke(
        app, ["import", *map(str, paths), "--workspace", str(ws.path), "--format", "json", *extra]
    )
    if result.exit_code == 1:
        return 1, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def rejects(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def base(tmp_path: Path, *entities: str) -> Path:
    return write_canonical(tmp_path / "data", entities=list(entities))


def one_bad_row(tmp_path: Path, entity: str, index: int, **changes: str) -> Path:
    rows = [dict(r) for r in CANONICAL[entity]]
    rows[index].update(changes)
    return write_csv(tmp_path / "data" / f"{entity}.csv", rows)


def assert_one_reject(
    out: dict[str, Any], file: str, line: int, column: str, reason: str
) -> dict[str, str]:
    lines = [r for r in rejects(out["rejects_file"]) if Path(r["file"]).name == file]
    assert len(lines) == 1, lines
    got = lines[0]
    assert got["line"] == str(line)
    assert got["column"] == column
    assert reason in got["reason"], got
    return got


def test_clean_import_exits_zero(workspace: Workspace, canonical: Path) -> None:
    code, out = run_import(workspace, canonical)
    assert code == 0
    assert out["rejects_file"] is None


@pytest.mark.parametrize(
    ("entity", "index", "changes", "column", "reason"),
    [
        ("opportunities", 1, {"created_on": "31/02/2024"}, "created_on", "not a date"),
        ("opportunities", 0, {"amount": "-100"}, "amount", "below minimum 0"),
        ("opportunities", 1, {"stage": "Maybe Later"}, "stage", "unknown stage 'Maybe Later'"),
        ("opportunities", 1, {"status": "open", "stage": "Closed Lost"}, "status",
         "contradicts stage 'closed_lost'"),
        ("opportunities", 1, {"account_id": "A9"}, "account_id", "unknown account_id 'A9'"),
        ("opportunities", 0, {"business_case": "maybe"}, "business_case", "not a boolean"),
        ("opportunities", 0, {"amount": ""}, "amount", "required value missing"),
        ("assessments", 2, {"score": "6"}, "score", "above maximum 5"),
        ("assessments", 2, {"score": "2.5"}, "score", "not a whole number"),
        ("assessments", 0, {"practice": "juggling"}, "practice", "unknown practice 'juggling'"),
        ("activities", 1, {"type": "fax"}, "type", "unknown type 'fax'"),
        ("activities", 1, {"started_at": "yesterday"}, "started_at", "not a timestamp"),
        ("reps", 2, {"weekly_hours": "0"}, "weekly_hours", "must be greater than 0"),
    ],
)
def test_bad_value_rejects_one_row(
    workspace: Workspace, tmp_path: Path, entity: str, index: int,
    changes: dict[str, str], column: str, reason: str,
) -> None:
    base(tmp_path, "reps", "accounts", "contacts", "opportunities", entity)
    one_bad_row(tmp_path, entity, index, **changes)
    code, out = run_import(workspace, tmp_path / "data")
    assert code == 2
    assert_one_reject(out, f"{entity}.csv", index + 2, column, reason)
    counts = out["entities"][entity]
    assert counts["rejected"] == 1
    assert counts["inserted"] == len(CANONICAL[entity]) - 1


def test_duplicate_id_within_a_file(workspace: Workspace, tmp_path: Path) -> None:
    base(tmp_path, "reps", "accounts")
    rows = [*CANONICAL["accounts"], {**CANONICAL["accounts"][0], "name": "Acme again"}]
    write_csv(tmp_path / "data" / "accounts.csv", rows)
    code, out = run_import(workspace, tmp_path / "data")
    assert code == 2
    got = assert_one_reject(out, "accounts.csv", 4, "account_id",
                            "duplicate account_id 'A1' (first at line 2)")
    assert got["value"] == "A1"


def test_unknown_optional_reference_is_kept_and_reported(
    workspace: Workspace, tmp_path: Path
) -> None:
    base(tmp_path, *CANONICAL)
    one_bad_row(tmp_path, "activities", 1, opportunity_id="O77")
    code, out = run_import(workspace, tmp_path / "data")
    assert code == 0
    assert out["entities"]["activities"]["inserted"] == 3
    assert out["unknown_references"] == {"activities.opportunity_id": 1}
    warned = rejects(out["warnings_file"])
    assert [(w["line"], w["column"], w["value"]) for w in warned] == [
        ("3", "opportunity_id", "O77")]


def test_missing_required_column_fails_and_writes_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    base(tmp_path, "reps", "accounts")
    cols = [c for c in CANONICAL["accounts"][0] if c != "name"]
    write_csv(tmp_path / "data" / "accounts.csv", CANONICAL["accounts"], cols)
    rejects_file = tmp_path / "rejects.csv"
    code, err = run_import(workspace, tmp_path / "data",
                           extra=("--rejects", str(rejects_file)))
    assert code == 1
    assert "missing required column name" in err
    assert len(err.strip().splitlines()) == 1
    lines = rejects(rejects_file)
    assert [(Path(r["file"]).name, r["line"]) for r in lines] == [("accounts.csv", "")]
    assert "missing required column name" in lines[0]["reason"]
    with Workspace(workspace.path) as ws:
        assert sum(ws.counts().values()) == 0


def test_invalid_utf8_rejects_the_record(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    path.write_bytes(b"rep_id,name\nR1,Ann\nR2,B\xff\xfeb\nR3,Cy\n")
    code, out = run_import(workspace, path)
    assert code == 2
    got = assert_one_reject(out, "reps.csv", 3, "name", "invalid UTF-8")
    assert got["line"] == "3"
    assert out["entities"]["reps"] == {
        "read": 3, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1}


def test_wrong_column_count_keeps_line_numbers_right(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "reps.csv"
    path.write_text('rep_id,name,team\nR1,Ann,East\nR2,Bo\n"R3","Cy\nCyrus",West\nR4,Di,\n'
                    "R5,Ed,x,y\nR6,Flo,North\n", encoding="utf-8")
    code, out = run_import(workspace, path)
    assert code == 2
    lines = rejects(out["rejects_file"])
    assert [(r["line"], r["reason"]) for r in lines] == [
        ("3", "too few columns"), ("6", "too many columns")]
    # The next bad value after the gaps is reported at its own record number.
    path.write_text("rep_id,name,weekly_hours\nR1,Ann,40\nR2,Bo\nR3,Cy,-1\n", encoding="utf-8")
    code, out = run_import(workspace, path)
    assert [(r["line"], r["column"]) for r in rejects(out["rejects_file"])] == [
        ("3", "weekly_hours"), ("4", "weekly_hours")]


def test_quoted_newline_is_one_record(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    path.write_text('rep_id,name,team\nR1,"Ann\nAnderson",East\nR2,Bo,-\nR3,,West\n',
                    encoding="utf-8")
    code, out = run_import(workspace, path)
    assert code == 2
    # Record numbers, not physical lines: R3 is the 4th record (header = 1).
    assert_one_reject(out, "reps.csv", 4, "name", "required value missing")
    with Workspace(workspace.path) as ws:
        names = ws.to_pandas("reps").set_index("rep_id")["name"]
    assert names["R1"] == "Ann\nAnderson"


def test_empty_file_fails_the_import(workspace: Workspace, tmp_path: Path) -> None:
    data = base(tmp_path, "reps")
    (data / "accounts.csv").write_bytes(b"")
    code, err = run_import(workspace, data)
    assert code == 1
    assert "file is empty" in err
    with Workspace(workspace.path) as ws:
        assert ws.counts()["reps"] == 0
        files = list(ws.rejects_dir.glob("*.csv"))
    assert len(files) == 1
    assert rejects(files[0])[0]["reason"] == "file is empty"


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"),
                                             ("utf-32", "UTF-32")])
def test_wide_unicode_file_is_named_and_refused(
    workspace: Workspace, tmp_path: Path, codec: str, name: str
) -> None:
    data = base(tmp_path, "reps")
    text = (data / "reps.csv").read_text(encoding="utf-8")
    bom = "\ufeff" if codec == "utf-16-be" else ""  # utf-16/utf-32 write their own
    (data / "reps.csv").write_bytes((bom + text).encode(codec))
    code, err = run_import(workspace, data)
    assert code == 1
    assert f"file is {name} text; save it as UTF-8" in err
    with Workspace(workspace.path) as ws:
        assert ws.counts()["reps"] == 0


def test_header_only_file_is_rejected_but_import_continues(
    workspace: Workspace, tmp_path: Path
) -> None:
    data = base(tmp_path, "reps")
    (data / "accounts.csv").write_text("account_id,name\n", encoding="utf-8")
    code, out = run_import(workspace, data)
    assert code == 2
    assert out["entities"]["reps"]["inserted"] == 3
    assert out["entities"]["accounts"]["read"] == 0
    got = rejects(out["rejects_file"])[0]
    assert got["line"] == "" and got["reason"] == "header only: no data rows"
    assert out["problems"]


def test_unknown_file_name_fails(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "stuff.csv", CANONICAL["reps"])
    code, err = run_import(workspace, path)
    assert code == 1
    assert "cannot tell which entity" in err


def test_missing_path_fails(workspace: Workspace, tmp_path: Path) -> None:
    code, err = run_import(workspace, tmp_path / "nope")
    assert code == 1
    assert "no such file or folder" in err


def test_json_counts_add_up(workspace: Workspace, tmp_path: Path) -> None:
    base(tmp_path, *CANONICAL)
    one_bad_row(tmp_path, "opportunities", 0, amount="lots")
    code, out = run_import(workspace, tmp_path / "data")
    assert code == 2
    for counts in [*out["entities"].values(), *out["files"]]:
        assert counts["inserted"] + counts["updated"] + counts["unchanged"] + \
            counts["rejected"] == counts["read"]
    # The rejected opportunity's history and activity rows are rejected in turn.
    assert out["entities"]["opportunity_history"]["rejected"] == 2
