"""The analysis gives the same answers on Spark as on DuckDB (issue 6).

The same demo files are imported into a DuckDB workspace and into a workspace
whose engine is local Spark (``spark://local[2]``); the same Ibis code then runs
on each. Every comparison is a function of :mod:`engine_compare`, which states
what "equal" means (floats within 1e-9, unknown stays unknown).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import engine_compare as ec
from conftest import engine_url
from wholejob.balance import with_balance
from wholejob.classification_cache import PREFIX as CACHE_PREFIX
from wholejob.consequences import attach_forecast_consequences
from wholejob.demo import generate_demo
from wholejob.findings import diagnose
from wholejob.forecast.data import load_snapshot
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import JobModel, load_job_model
from wholejob.measures import build_scorecard, trace
from wholejob.schema import ENTITY_ORDER
from wholejob.scorecard import Scorecard
from wholejob.workspace import Workspace, init_workspace

pytestmark = pytest.mark.slow

REPS, WEEKS, SEED = 8, 13, 7


@pytest.fixture(scope="module")
def duck_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A demo workspace on DuckDB (the reference)."""
    root: Path = tmp_path_factory.mktemp("engines")
    generate_demo(root / "data", reps=REPS, weeks=WEEKS, seed=SEED)
    ws = init_workspace(root / "ws")
    import_paths(ws, [root / "data"])
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def spark_ws(duck_ws: Workspace) -> Iterator[Workspace]:
    """The same demo files imported into a workspace whose engine is local Spark.

    The import itself runs on Spark (validation and upsert through the same Ibis
    code), so every comparison below also checks the import at demo scale.
    """
    url = engine_url("spark")
    root = duck_ws.path.parent
    ws = Workspace(init_workspace(root / "ws-spark").path, engine=url)
    import_paths(ws, [root / "data"])
    yield ws
    ws.close()


def test_imported_tables_are_equal(duck_ws: Workspace, spark_ws: Workspace) -> None:
    for name in ENTITY_ORDER:
        a = sorted(map(repr, duck_ws.table(name).to_pyarrow().to_pylist()))
        b = sorted(map(repr, spark_ws.table(name).to_pyarrow().to_pylist()))
        assert len(a) == len(b), name
        assert a == b, name


@pytest.fixture(scope="module")
def model(duck_ws: Workspace) -> JobModel:
    return load_job_model(duck_ws.config, source=str(duck_ws.config_path))


@pytest.fixture(scope="module")
def scorecards(duck_ws: Workspace, spark_ws: Workspace, model: JobModel
               ) -> tuple[Scorecard, Scorecard]:
    """The team scorecard on each engine, built once for the tests below."""
    return build_scorecard(duck_ws, model=model), build_scorecard(spark_ws, model=model)


def test_classification_is_equal(duck_ws: Workspace, spark_ws: Workspace) -> None:
    rows = ec.assert_classification_equal(duck_ws, spark_ws)
    assert len(rows) > 1000
    assert {r["method"] for r in rows.values()} >= {"label", "rule", "model"}


def test_classification_read_from_the_cache_is_equal(duck_ws: Workspace,
                                                     spark_ws: Workspace) -> None:
    """DuckDB reads its cached classification back (written by the test above); Spark has none.

    Spark classifies afresh each time, so the cached rows are checked against a
    fresh computation on the other engine.
    """
    assert list((duck_ws.path / "cache").glob(f"{CACHE_PREFIX}plain-*.parquet"))
    ec.assert_classification_equal(duck_ws, spark_ws)
    assert not list((spark_ws.path / "cache").glob(f"{CACHE_PREFIX}*"))


def test_scorecard_is_equal(scorecards: tuple[Scorecard, Scorecard]) -> None:
    duck, spark = scorecards
    ec.assert_scorecards_equal(duck, spark)
    # The comparison covered real figures, not only unknowns.
    measures = [m for r in duck.reps for p in r.practices.values() for m in p.measures]
    assert sum(m.value is not None for m in measures) > 100


def test_balance_is_equal(scorecards: tuple[Scorecard, Scorecard], model: JobModel) -> None:
    duck, spark = scorecards
    ec.assert_balance_equal(duck, spark, model)
    assert any(r.balance_index is not None for r in with_balance(duck, model).reps)


def test_findings_are_equal(scorecards: tuple[Scorecard, Scorecard], model: JobModel) -> None:
    duck, spark = (with_balance(s, model) for s in scorecards)
    fd, fs = diagnose(duck, model), diagnose(spark, model)
    assert fd, "the demo team should have findings"
    ec.assert_findings_equal(fd, fs)


def test_forecast_consequences_are_equal(
    duck_ws: Workspace, spark_ws: Workspace, scorecards: tuple[Scorecard, Scorecard],
    model: JobModel,
) -> None:
    duck, spark = (with_balance(s, model) for s in scorecards)
    fd = attach_forecast_consequences(diagnose(duck, model), duck_ws, paths=200)
    fs = attach_forecast_consequences(diagnose(spark, model), spark_ws, paths=200)
    assert any("forecast" in f.evidence for f in fd)
    ec.assert_findings_equal(fd, fs)


def test_forecast_snapshot_is_equal(duck_ws: Workspace, spark_ws: Workspace) -> None:
    duck, spark = load_snapshot(duck_ws), load_snapshot(spark_ws)
    ec.assert_snapshots_equal(duck, spark)
    assert duck.hours is not None and duck.open_count.sum() > 0


def test_trace_is_equal(duck_ws: Workspace, spark_ws: Workspace,
                        scorecards: tuple[Scorecard, Scorecard]) -> None:
    rep = scorecards[0].reps[0].rep_id
    # Own-practice effort, account-attribute effort, and a measure's records.
    cases = [(rep, "prospecting", None), (rep, "icp_focus", None),
             (rep, "buying_process", "stage_velocity")]
    ec.assert_traces_equal(duck_ws, spark_ws, cases)
    assert trace(duck_ws, rep, "prospecting")["activities"]


def test_capped_training_sample_is_equal(duck_ws: Workspace, spark_ws: Workspace,
                                         model: JobModel) -> None:
    # The demo labels too few activities to reach the cap; a small cap makes the
    # sample depend on the ordering (an MD5 of the text, the same on both engines).
    from wholejob.textmodel import training_data

    duck = training_data(duck_ws, model, per_practice=3, total=20)
    ec.assert_same(duck, training_data(spark_ws, model, per_practice=3, total=20),
                   "training_data")
    full = training_data(duck_ws, model)
    assert len(duck[0]) < len(full[0])


TEXTS = ["Cold call", "cold call", "", "Café Überweisung", "日本語 テキスト", "emoji 😀", "a\tb\nc"]


def test_text_store_keys_are_the_same_on_each_engine(duck_ws: Workspace,
                                                     spark_ws: Workspace) -> None:
    """The prediction store's keys are hashed by the engine: each gives Python's MD5."""
    import ibis
    import pyarrow as pa

    from wholejob.textstore import md5_keys, text_keys

    want = text_keys(pa.array(TEXTS))
    for ws in (duck_ws, spark_ws):
        t = ibis.memtable({"i": list(range(len(TEXTS))), "text": TEXTS})
        got = ws.con.to_pyarrow(t.mutate(h=t.text.hexdigest("md5")).order_by("i"))
        hi, lo = md5_keys(got.column("h"))
        assert hi.tolist() == want[0].tolist(), ws.engine_url
        assert lo.tolist() == want[1].tolist(), ws.engine_url


EDGES = [("Cold call", "notes"), ("", "body only"), ("subject only", ""), ("", ""),
         (" \t lead", "trail \n"), ("\x0bvt", "ff\x0c"), ("\rcr", "mid\x0bdle"),
         ("staff", "v"), ("x" * 990, "y" * 30), ("\n", "\t")]


def test_the_model_text_is_python_strip_on_each_engine(duck_ws: Workspace,
                                                       spark_ws: Workspace) -> None:
    """The text the model reads: subject, space, body, stripped of string.whitespace, cut."""
    import string

    import ibis

    from wholejob.textmodel import MAX_TEXT_CHARS, activity_text

    want = [((s or "") + " " + (b or "")).strip(string.whitespace)[:MAX_TEXT_CHARS]
            for s, b in EDGES]
    for ws in (duck_ws, spark_ws):
        t = ibis.memtable({"i": list(range(len(EDGES))), "subject": [s for s, _ in EDGES],
                           "body": [b for _, b in EDGES]},
                          schema={"i": "int64", "subject": "string", "body": "string"})
        # (No NULLs: a Spark memtable reads a missing string as "NaN".)
        got = ws.con.to_pyarrow(t.select("i", x=activity_text(t)).order_by("i"))
        assert got.column("x").to_pylist() == want, ws.engine_url
