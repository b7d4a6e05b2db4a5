"""Shared fixtures: a fresh workspace and a tiny, valid canonical dataset."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from wholejob.workspace import Workspace, init_workspace

# One small team that exercises every entity and every reference.
CANONICAL: dict[str, list[dict[str, str]]] = {
    "reps": [
        {"rep_id": "M1", "name": "Maria Manager", "email": "m1@example.com", "team": "East",
         "manager_id": "", "role": "manager", "quota": "0", "weekly_hours": "",
         "hired_on": "2019-01-07"},
        {"rep_id": "R1", "name": "Ravi Rep", "email": "r1@example.com", "team": "East",
         "manager_id": "M1", "role": "rep", "quota": "1200000", "weekly_hours": "40",
         "hired_on": "2021-03-01"},
        {"rep_id": "R2", "name": "Rosa Rep", "email": "r2@example.com", "team": "East",
         "manager_id": "M1", "role": "rep", "quota": "900000", "weekly_hours": "32",
         "hired_on": "2022-09-15"},
    ],
    "accounts": [
        {"account_id": "A1", "name": "Acme", "industry": "Manufacturing", "employees": "1200",
         "annual_revenue": "350000000", "region": "EMEA", "owner_id": "R1",
         "customer_since": "2020-05-01", "icp_tier": "A"},
        {"account_id": "A2", "name": "Globex", "industry": "Software", "employees": "80",
         "annual_revenue": "12000000", "region": "NA", "owner_id": "R2",
         "customer_since": "", "icp_tier": ""},
    ],
    "contacts": [
        {"contact_id": "C1", "account_id": "A1", "name": "Carla Chief", "title": "CFO",
         "seniority": "executive"},
        {"contact_id": "C2", "account_id": "A2", "name": "Dan Dev", "title": "Engineer",
         "seniority": "staff"},
    ],
    "opportunities": [
        {"opportunity_id": "O1", "account_id": "A1", "owner_id": "R1", "name": "Acme expansion",
         "created_on": "2024-01-10", "close_date": "2024-03-29", "amount": "48000",
         "stage": "Closed Won", "status": "", "kind": "expansion", "source": "customer",
         "lost_reason": "", "next_step": "", "next_step_on": "", "business_case": "yes"},
        {"opportunity_id": "O2", "account_id": "A2", "owner_id": "R2", "name": "Globex new",
         "created_on": "2024-02-01", "close_date": "2024-06-30", "amount": "25000.50",
         "stage": "proposal", "status": "open", "kind": "new_logo", "source": "outbound",
         "lost_reason": "", "next_step": "Send proposal", "next_step_on": "2024-02-20",
         "business_case": "false"},
    ],
    "opportunity_history": [
        {"opportunity_id": "O1", "stage": "qualification", "entered_at": "2024-01-10T09:00:00",
         "amount": "40000", "close_date": "2024-03-31"},
        {"opportunity_id": "O1", "stage": "closed_won", "entered_at": "2024-03-29T16:30:00Z",
         "amount": "48000", "close_date": "2024-03-29"},
        {"opportunity_id": "O2", "stage": "proposal", "entered_at": "2024-02-15 11:00:00",
         "amount": "25000.50", "close_date": "2024-06-30"},
    ],
    "activities": [
        {"activity_id": "T1", "rep_id": "R1", "type": "call", "started_at": "2024-01-08T10:00:00",
         "duration_minutes": "30", "subject": "Discovery call", "body": "", "account_id": "A1",
         "contact_id": "C1", "opportunity_id": "O1", "direction": "outbound",
         "outcome": "connected", "practice": ""},
        {"activity_id": "T2", "rep_id": "R2", "type": "email",
         "started_at": "2024-02-02T08:15:00+01:00", "duration_minutes": "5",
         "subject": "Intro", "body": "Hello,\nnice to meet you", "account_id": "A2",
         "contact_id": "", "opportunity_id": "", "direction": "outbound", "outcome": "",
         "practice": "prospecting"},
        {"activity_id": "T3", "rep_id": "R1", "type": "task", "started_at": "2024-02-05T14:00:00",
         "duration_minutes": "60", "subject": "Expense report", "body": "", "account_id": "",
         "contact_id": "", "opportunity_id": "", "direction": "", "outcome": "",
         "practice": "other"},
    ],
    "assessments": [
        {"rep_id": "R1", "practice": "prospecting", "score": "3", "assessed_on": "2024-01-31",
         "assessor_id": "M1", "source": "manager", "note": "More outbound"},
        {"rep_id": "R1", "practice": "prospecting", "score": "4", "assessed_on": "2024-01-31",
         "assessor_id": "", "source": "self", "note": ""},
        {"rep_id": "R2", "practice": "closing", "score": "2", "assessed_on": "2024-01-31",
         "assessor_id": "", "source": "", "note": ""},
    ],
}


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Write rows as a UTF-8 CSV with a header (columns default to the first row's keys)."""
    cols = columns if columns is not None else list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def write_canonical(
    folder: Path, fmt: str = "csv", entities: list[str] | None = None
) -> Path:
    """Write the tiny canonical dataset into ``folder`` as CSV or Parquet; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in CANONICAL.items():
        if entities is not None and name not in entities:
            continue
        if fmt == "csv":
            write_csv(folder / f"{name}.csv", rows)
        else:
            # Parquet with real types, as a warehouse export would have them.
            tmp = folder / f".{name}.tmp.csv"
            write_csv(tmp, rows)
            table = pacsv.read_csv(tmp)
            tmp.unlink()
            pq.write_table(_typed(table), folder / f"{name}.parquet")
    return folder


def _typed(table: pa.Table) -> pa.Table:
    return table


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh, empty workspace in a temporary folder."""
    ws = init_workspace(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def canonical(tmp_path: Path) -> Path:
    """A folder with the tiny canonical dataset as CSV files."""
    return write_canonical(tmp_path / "data")


# -- engines -------------------------------------------------------------------
# The engine-parametrised suite (tests/test_engine_*.py) runs every test on each
# engine. DuckDB always runs; Spark needs pyspark and Java, which CI installs, and
# a skip there fails CI (WHOLEJOB_REQUIRE_ALL).

SPARK_URL = "spark://local[2]"
ENGINES = {"duckdb": "duckdb", "spark": SPARK_URL}


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None when it can."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[test]')"
    if shutil.which("java") is None:
        return "Java is not installed (Spark needs Java 17+)"
    return None


def engine_url(name: str) -> str:
    """The URL of engine ``name``; skips the test when that engine cannot run here."""
    if name == "spark":
        why = spark_missing()
        if why is not None:
            pytest.skip(f"Spark engine not available: {why}")
    return ENGINES[name]
