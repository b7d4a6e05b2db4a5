"""Generate a deterministic demo sales team as contract files, with ground truth.

:func:`generate_demo` writes the seven canonical entity files (CSV or Parquet) and,
under ``_truth/``, what a real dataset never tells: the true practice of every
activity and each rep's behaviour profile and planned weekly hours, so that the
classifier and the findings can be measured against them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from wholejob.demo.accounts import build_accounts
from wholejob.demo.activities import generate_activities
from wholejob.demo.pipeline import simulate_pipeline
from wholejob.demo.profiles import ALL_PRACTICES
from wholejob.demo.records import account_table, history_table, opportunity_table
from wholejob.demo.team import Calendar, build_assessments, build_team
from wholejob.schema import ENTITIES, ENTITY_ORDER, Entity

__all__ = ["BURN_IN_WEEKS", "DEFAULT_END", "DemoResult", "generate_demo"]

DEFAULT_END = date(2025, 6, 30)  # a Monday, fixed so the demo is reproducible
BURN_IN_WEEKS = 16
TRUTH_DIR = "_truth"
Progress = Callable[[str, float], None]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class DemoResult:
    """What :func:`generate_demo` wrote: file paths, row counts and rep profiles."""

    out_dir: Path
    paths: dict[str, Path]  # entity name -> contract file
    rows: dict[str, int]  # entity name -> rows written
    profiles: dict[str, str]  # rep_id -> behaviour profile (sellers only)
    truth: dict[str, Path]  # ground-truth files, not part of the contract
    end: date
    seconds: float


def _arrow_schema(ent: Entity) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.dtype]) for c in ent.columns])


def _monday_on_or_before(d: date) -> date:
    return d - timedelta(days=d.weekday())


class _Writer:
    """Writes one entity file in blocks, in contract column order."""

    def __init__(self, path: Path, ent: Entity, fmt: str) -> None:
        self.schema = _arrow_schema(ent)
        self.fmt = fmt
        self.rows = 0
        self._csv: pacsv.CSVWriter | None = None
        self._pq: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._ts = [f.name for f in self.schema if pa.types.is_timestamp(f.type)]
            csv_schema = pa.schema(
                [pa.field(f.name, pa.string()) if f.name in self._ts else f for f in self.schema]
            )
            self._csv = pacsv.CSVWriter(
                str(path), csv_schema, write_options=pacsv.WriteOptions(quoting_style="needed")
            )
        else:
            self._pq = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (any column order, castable to the contract types)."""
        table = table.select(self.schema.names).cast(self.schema)
        self.rows += table.num_rows
        if self._csv is not None:
            # ISO 8601 with a "T"; whole seconds so Arrow prints no fraction.
            for name in self._ts:
                col = pc.strftime(pc.cast(table[name], pa.timestamp("s")), "%Y-%m-%dT%H:%M:%S")
                table = table.set_column(table.schema.get_field_index(name), name, col)
            self._csv.write_table(table)
        elif self._pq is not None:
            self._pq.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._csv is not None:
            self._csv.close()
        if self._pq is not None:
            self._pq.close()


def _write_one(path: Path, name: str, table: pa.Table, fmt: str) -> int:
    w = _Writer(path, ENTITIES[name], fmt)
    w.write(table)
    w.close()
    return w.rows


def _truth_tables(team_ids: list[str], profiles: list[str], allocation: np.ndarray,
                  weekly: np.ndarray) -> tuple[pa.Table, pa.Table]:
    n, p = allocation.shape
    prof = pa.table({"rep_id": team_ids, "profile": profiles})
    hours = np.round(allocation * weekly[:, None], 2).ravel()
    alloc = pa.table(
        {
            "rep_id": np.repeat(np.array(team_ids), p),
            "profile": np.repeat(np.array(profiles), p),
            "practice": np.tile(np.array(ALL_PRACTICES), n),
            "planned_hours_per_week": hours,
        }
    )
    return prof, alloc


def generate_demo(
    out_dir: Path,
    *,
    reps: int = 12,
    weeks: int = 26,
    seed: int = 7,
    end: date | None = None,
    fmt: Literal["csv", "parquet"] = "csv",
    progress: Progress | None = None,
    burn_in_weeks: int = BURN_IN_WEEKS,
) -> DemoResult:
    """Write a demo team's seven contract files and its ground truth to ``out_dir``.

    The same arguments always give byte-identical files: all randomness comes from
    one ``numpy.random.Generator(seed)`` and ``end`` defaults to a fixed Monday
    (a given ``end`` is moved back to the Monday on or before it). Activities cover
    the ``weeks`` weeks before ``end``; opportunities and customers also come from a
    burn-in of :data:`BURN_IN_WEEKS` weeks before that, so the pipeline is full
    when the window opens. With every profile present (``reps >= 7``) the team has
    at least one rep of each behaviour profile. ``burn_in_weeks`` lengthens the
    burn-in: more opportunity history (closed deals, customers) before the first
    activity, with the same activities; the scale benchmark uses it to reach its
    opportunity count without inventing rows.
    """
    if reps < 1 or weeks < 1:
        raise ValueError("reps and weeks must be at least 1")
    if burn_in_weeks < 1:
        raise ValueError("burn_in_weeks must be at least 1")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r} (use csv or parquet)")
    started = time.perf_counter()

    def report(step: str, fraction: float) -> None:
        if progress is not None:
            progress(step, fraction)

    out_dir = Path(out_dir)
    (out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    other = "parquet" if fmt == "csv" else "csv"
    for name in ENTITY_ORDER:  # a stale file of the other format would be imported too
        (out_dir / f"{name}.{other}").unlink(missing_ok=True)
    paths = {name: out_dir / f"{name}.{fmt}" for name in ENTITY_ORDER}
    rows: dict[str, int] = {}

    rng = np.random.default_rng(seed)
    cal = Calendar(_monday_on_or_before(end or DEFAULT_END), weeks, burn_in_weeks)
    report("team", 0.0)
    team = build_team(reps, cal, rng)
    accounts = build_accounts(team, cal, rng)
    report("pipeline", 0.1)
    pipe = simulate_pipeline(team, accounts, cal, rng)
    report("records", 0.25)
    acc_t = account_table(team, accounts, pipe, cal, rng)
    opp_t = opportunity_table(team, accounts, pipe, cal, rng)
    hist_t = history_table(opp_t, pipe, cal, rng)
    assess_t = build_assessments(team, cal, rng)
    for name, table in (
        ("reps", team.reps_table), ("accounts", acc_t), ("contacts", accounts.contacts_table),
        ("opportunities", opp_t), ("opportunity_history", hist_t), ("assessments", assess_t),
    ):
        rows[name] = _write_one(paths[name], name, table, fmt)

    truth = {
        "activities": out_dir / TRUTH_DIR / "activities_truth.parquet",
        "profiles": out_dir / TRUTH_DIR / "reps_profiles.csv",
        "allocation": out_dir / TRUTH_DIR / "reps_allocation.csv",
    }
    report("activities", 0.3)
    writer = _Writer(paths["activities"], ENTITIES["activities"], fmt)
    truth_schema = pa.schema([("activity_id", pa.string()), ("rep_id", pa.string()),
                              ("practice", pa.string())])
    truth_writer = pq.ParquetWriter(str(truth["activities"]), truth_schema, compression="zstd")
    try:
        for activities, act_truth, done in generate_activities(
            team, accounts, pipe, opp_t["opportunity_id"], cal, rng
        ):
            writer.write(activities)
            truth_writer.write_table(act_truth)
            report("activities", 0.3 + 0.7 * done / team.n)
    finally:
        writer.close()
        truth_writer.close()
    rows["activities"] = writer.rows

    profiles_t, alloc_t = _truth_tables(team.rep_ids, team.profiles, team.allocation,
                                        team.weekly_hours)
    pacsv.write_csv(profiles_t, truth["profiles"])
    pacsv.write_csv(alloc_t, truth["allocation"])
    report("done", 1.0)
    return DemoResult(
        out_dir=out_dir,
        paths=paths,
        rows={name: rows[name] for name in ENTITY_ORDER},
        profiles=dict(zip(team.rep_ids, team.profiles, strict=True)),
        truth=truth,
        end=cal.end,
        seconds=time.perf_counter() - started,
    )
