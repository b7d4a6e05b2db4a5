"""The demo team generator: contract files, determinism, and behaviour that causes outcomes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from wholejob.config import DEFAULT_STAGES
from wholejob.demo import PRACTICES, PROFILE_NAMES, DemoResult, generate_demo
from wholejob.schema import ENTITIES, ENTITY_ORDER

STAGES = [s.name for s in DEFAULT_STAGES]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return generate_demo(tmp_path_factory.mktemp("demo"), reps=21, weeks=26, seed=11)


@pytest.fixture(scope="module")
def db(demo: DemoResult) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, path in demo.paths.items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', all_varchar=true)")
    con.execute(
        f"CREATE VIEW truth AS SELECT * FROM read_parquet('{demo.truth['activities']}')"
    )
    con.execute(f"CREATE VIEW profiles AS SELECT * FROM read_csv('{demo.truth['profiles']}')")
    return con


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", reps=8, weeks=6, seed=3)
    b = generate_demo(tmp_path / "b", reps=8, weeks=6, seed=3)
    for name in ENTITY_ORDER:
        assert a.paths[name].read_bytes() == b.paths[name].read_bytes(), name
    for key in a.truth:
        assert a.truth[key].read_bytes() == b.truth[key].read_bytes(), key
    c = generate_demo(tmp_path / "c", reps=8, weeks=6, seed=4)
    assert c.paths["activities"].read_bytes() != a.paths["activities"].read_bytes()


def test_end_is_the_monday_on_or_before(tmp_path: Path) -> None:
    r = generate_demo(tmp_path, reps=7, weeks=2, end=date(2025, 3, 13))
    assert r.end == date(2025, 3, 10)


def test_parquet_has_contract_columns_and_types(tmp_path: Path) -> None:
    r = generate_demo(tmp_path, reps=7, weeks=3, fmt="parquet")
    for name in ENTITY_ORDER:
        table = pq.read_table(r.paths[name])
        assert table.column_names == ENTITIES[name].column_names
        assert table.num_rows == r.rows[name] > 0
    assert not (tmp_path / "reps.csv").exists()


def test_every_file_has_exactly_the_contract_columns(
    demo: DemoResult, db: duckdb.DuckDBPyConnection
) -> None:
    for name in ENTITY_ORDER:
        header = demo.paths[name].read_text().splitlines()[0]
        assert [c.strip('"') for c in header.split(",")] == ENTITIES[name].column_names
        assert db.execute(f"SELECT count(*) FROM {name}").fetchone() == (demo.rows[name],)


def test_ids_are_unique_and_references_valid(db: duckdb.DuckDBPyConnection) -> None:
    for name in ENTITY_ORDER:
        key = ", ".join(ENTITIES[name].key)
        dup = db.execute(
            f"SELECT count(*) FROM (SELECT {key} FROM {name} GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        assert dup == (0,), name
    for name in ENTITY_ORDER:
        for col in ENTITIES[name].columns:
            if col.ref is None:
                continue
            target, target_col = col.ref.split(".")
            missing = db.execute(
                f"SELECT count(*) FROM {name} WHERE {col.name} IS NOT NULL AND {col.name} "
                f"NOT IN (SELECT {target_col} FROM {target})"
            ).fetchone()
            assert missing == (0,), f"{name}.{col.name}"
        for col in ENTITIES[name].required:
            nulls = db.execute(f"SELECT count(*) FROM {name} WHERE {col} IS NULL").fetchone()
            assert nulls == (0,), f"{name}.{col}"


def test_values_follow_the_contract(db: duckdb.DuckDBPyConnection) -> None:
    for name in ENTITY_ORDER:
        for col in ENTITIES[name].columns:
            values = {
                v for (v,) in db.execute(f"SELECT DISTINCT {col.name} FROM {name}").fetchall()
            } - {None}
            if col.enum:
                assert values <= set(col.enum), f"{name}.{col.name}"
            if col.enum_from == "stages":
                assert values <= set(STAGES)
            if col.enum_from in ("practices", "practices_and_other"):
                assert values <= {*PRACTICES, "other"}
            if col.dtype == "date":
                db.execute(f"SELECT strptime({col.name}, '%Y-%m-%d') FROM {name}").fetchall()
            if col.dtype == "timestamp":
                db.execute(f"SELECT strptime({col.name}, '%Y-%m-%dT%H:%M:%S') FROM {name}")
            if col.dtype in ("float", "int") and col.min_value is not None:
                low = db.execute(f"SELECT min({col.name}::DOUBLE) FROM {name}").fetchone()
                assert low is not None and low[0] >= col.min_value, f"{name}.{col.name}"
    bad = db.execute(
        "SELECT count(*) FROM opportunities WHERE (status = 'open') <> "
        "(stage NOT IN ('closed_won', 'closed_lost'))"
    ).fetchone()
    assert bad == (0,)


def test_history_matches_opportunities(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute(
        """
        SELECT count(*) FROM opportunities o
        JOIN (SELECT opportunity_id, arg_max(stage, entered_at) AS last_stage,
                     min(entered_at)::DATE AS first_day
              FROM opportunity_history GROUP BY 1) h USING (opportunity_id)
        WHERE h.last_stage <> o.stage OR h.first_day <> o.created_on::DATE
        """
    ).fetchone()
    assert rows == (0,)


def test_every_profile_is_present_and_balanced_most_common() -> None:
    import numpy as np

    from wholejob.demo.profiles import assign_profiles

    for n in (7, 8, 12, 30):
        names = assign_profiles(n, np.random.default_rng(0))
        counts = pd.Series(names).value_counts()
        assert set(counts.index) == set(PROFILE_NAMES)
        assert counts["balanced"] == counts.max()


def _per_rep(db: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run a per-rep query (column owner_id) and join each rep's profile."""
    df = _frame(db, sql)
    prof = _frame(db, "SELECT rep_id AS owner_id, profile FROM profiles")
    return prof.merge(df, on="owner_id", how="left").fillna(0)


def test_avoiding_prospecting_means_fewer_self_sourced_opportunities(
    db: duckdb.DuckDBPyConnection,
) -> None:
    df = _per_rep(db, """
        SELECT owner_id, count(*) AS n FROM opportunities
        WHERE source IN ('outbound', 'social') GROUP BY 1""")
    by = df.groupby("profile")["n"].mean()
    assert by["avoids_prospecting"] < 0.6 * by["balanced"]
    assert by["closer_no_pipeline"] < 0.6 * by["balanced"]


def test_bad_qualifiers_lose_late(db: duckdb.DuckDBPyConnection) -> None:
    df = _per_rep(db, """
        WITH last_open AS (
            SELECT opportunity_id, arg_max(stage, entered_at) AS stage
            FROM opportunity_history WHERE stage NOT IN ('closed_won', 'closed_lost')
            GROUP BY 1)
        SELECT owner_id, avg((l.stage IN ('proposal', 'negotiation'))::INT) AS late_share
        FROM opportunities o JOIN last_open l USING (opportunity_id)
        WHERE o.status = 'lost' GROUP BY 1""")
    by = df.groupby("profile")["late_share"].mean()
    assert by["qualifies_badly"] > by["balanced"] + 0.1


def test_farmers_win_fewer_new_logos_and_more_renewals_and_expansions(
    db: duckdb.DuckDBPyConnection,
) -> None:
    df = _per_rep(db, """
        SELECT owner_id,
               count(*) FILTER (kind = 'new_logo') AS new_logo,
               count(*) FILTER (kind <> 'new_logo') AS customer_deals
        FROM opportunities WHERE status = 'won' GROUP BY 1""")
    by = df.groupby("profile")[["new_logo", "customer_deals"]].mean()
    assert by.loc["account_farmer", "new_logo"] < by.loc["balanced", "new_logo"]
    assert by.loc["account_farmer", "customer_deals"] > by.loc["balanced", "customer_deals"]


def test_reps_who_never_ask_get_no_referrals(db: duckdb.DuckDBPyConnection) -> None:
    df = _per_rep(db, """
        SELECT owner_id, count(*) FILTER (source = 'referral') AS referral
        FROM opportunities GROUP BY 1""")
    by = df.groupby("profile")["referral"].mean()
    assert by["never_asks_referrals"] == 0
    assert by["balanced"] > 1


def test_activities_link_to_records_that_fit_their_practice(
    db: duckdb.DuckDBPyConnection,
) -> None:
    df = _frame(db, """
        SELECT t.practice, o.stage, a.opportunity_id IS NOT NULL AS has_opp,
               acc.customer_since IS NOT NULL AS customer
        FROM activities a JOIN truth t USING (activity_id)
        LEFT JOIN opportunities o USING (opportunity_id)
        LEFT JOIN accounts acc ON acc.account_id = a.account_id""")
    closing = df[(df.practice == "closing") & df.has_opp]
    assert len(closing) > 0
    prospecting = df[df.practice == "prospecting"]
    assert not prospecting.has_opp.any()
    growth = df[(df.practice == "account_growth")]
    assert growth.customer.mean() > 0.9
    other = df[df.practice == "other"]
    assert not other.has_opp.any()


def test_explicit_practice_is_a_minority_and_matches_truth(
    db: duckdb.DuckDBPyConnection,
) -> None:
    tagged, total, wrong = db.execute("""
        SELECT count(a.practice), count(*),
               count(*) FILTER (a.practice IS NOT NULL AND a.practice <> t.practice)
        FROM activities a JOIN truth t USING (activity_id)""").fetchone() or (0, 0, 0)
    assert 0.05 < tagged / total < 0.4
    assert wrong == 0


def test_activity_text_is_varied(db: duckdb.DuckDBPyConnection) -> None:
    subjects, bodies, total = db.execute(
        "SELECT count(DISTINCT subject), count(DISTINCT body), count(*) FROM activities"
    ).fetchone() or (0, 0, 0)
    assert subjects / total > 0.5
    assert bodies / total > 0.2
    per_practice = db.execute("""
        SELECT min(n) FROM (SELECT t.practice, count(DISTINCT a.subject) AS n
        FROM activities a JOIN truth t USING (activity_id)
        WHERE t.practice <> 'value_creation' GROUP BY 1)""").fetchone()
    assert per_practice is not None and per_practice[0] > 20


def test_assessments_follow_skill(db: duckdb.DuckDBPyConnection) -> None:
    df = _frame(db, """
        SELECT p.profile, a.practice, avg(a.score::INT) AS score FROM assessments a
        JOIN profiles p USING (rep_id) WHERE a.source = 'manager' GROUP BY ALL""")
    s = df.set_index(["profile", "practice"])["score"]
    assert s["qualifies_badly", "qualification"] < s["balanced", "qualification"]
    assert s["closer_no_pipeline", "closing"] > s["balanced", "closing"]


def test_progress_is_reported(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    generate_demo(tmp_path, reps=7, weeks=2, progress=lambda s, f: seen.append((s, f)))
    assert seen[0][1] == 0.0
    assert seen[-1] == ("done", 1.0)
    assert [f for _, f in seen] == sorted(f for _, f in seen)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_demo(tmp_path, reps=0)
    with pytest.raises(ValueError):
        generate_demo(tmp_path, fmt="xlsx")  # type: ignore[arg-type]
