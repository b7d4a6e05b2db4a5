"""The analysis gives the same answers on Spark as on DuckDB (issue 6).

One demo workspace is imported into DuckDB as usual; the :func:`spark_ws`
fixture shows the same tables to a local Spark session and runs the same Ibis
code there. Every comparison is a function of :mod:`engine_compare`, which
states what "equal" means (floats within 1e-9, unknown stays unknown).

:func:`spark_ws` is the one place that knows how a workspace runs on Spark;
when the engine layer can open a workspace on Spark itself, only that fixture
changes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

import engine_compare as ec
from wholejob.balance import with_balance
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

pytestmark = [
    pytest.mark.slow,
    # pyspark's own noise, not ours: toPandas passes pandas 3 a deprecated
    # copy=, and py4j leaves its gateway sockets for the garbage collector.
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

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
def spark_ws(duck_ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The same workspace with every query running on a local Spark session.

    The imported tables are exported to Parquet and registered as Spark temp
    views; the workspace's Ibis connection is the pyspark backend. Spark has no
    temporary tables, so ``create_table(..., temp=True)`` becomes a cached view.
    The session runs in UTC: workspace timestamps carry no zone, and Spark
    applies the session zone when it turns them into epoch seconds.
    """
    import ibis
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]").appName("wholejob-engine-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    pq_dir: Path = tmp_path_factory.mktemp("parquet")
    for name in ENTITY_ORDER:
        path = pq_dir / f"{name}.parquet"
        duck_ws.table(name).to_parquet(path)
        spark.read.parquet(str(path)).createOrReplaceTempView(name)
    con = ibis.pyspark.connect(spark)
    create_table = con.create_table

    def create_temp_as_cached_view(name: str, obj: Any = None, *, temp: bool = False,
                                   **kw: Any) -> Any:
        if not temp:
            return create_table(name, obj, **kw)
        view = con.create_view(name, obj, overwrite=True)
        spark.catalog.cacheTable(name)
        return view

    con.create_table = create_temp_as_cached_view  # type: ignore[method-assign]
    ws = Workspace(duck_ws.path, read_only=True)
    _ = ws.config
    ws._con = con  # type: ignore[assignment]
    yield ws
    ws._con = None
    spark.catalog.clearCache()
    spark.stop()


@pytest.fixture(scope="module")
def model(duck_ws: Workspace) -> JobModel:
    return load_job_model(duck_ws.config, source=str(duck_ws.config_path))


@pytest.fixture(scope="module")
def scorecards(duck_ws: Workspace, spark_ws: Any, model: JobModel
               ) -> tuple[Scorecard, Scorecard]:
    """The team scorecard on each engine, built once for the tests below."""
    return build_scorecard(duck_ws, model=model), build_scorecard(spark_ws, model=model)


def test_classification_is_equal(duck_ws: Workspace, spark_ws: Any) -> None:
    rows = ec.assert_classification_equal(duck_ws, spark_ws)
    assert len(rows) > 1000
    assert {r["method"] for r in rows.values()} >= {"label", "rule", "model"}


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
    duck_ws: Workspace, spark_ws: Any, scorecards: tuple[Scorecard, Scorecard],
    model: JobModel,
) -> None:
    duck, spark = (with_balance(s, model) for s in scorecards)
    fd = attach_forecast_consequences(diagnose(duck, model), duck_ws, paths=200)
    fs = attach_forecast_consequences(diagnose(spark, model), spark_ws, paths=200)
    assert any("forecast" in f.evidence for f in fd)
    ec.assert_findings_equal(fd, fs)


def test_forecast_snapshot_is_equal(duck_ws: Workspace, spark_ws: Any) -> None:
    duck, spark = load_snapshot(duck_ws), load_snapshot(spark_ws)
    ec.assert_snapshots_equal(duck, spark)
    assert duck.hours is not None and duck.open_count.sum() > 0


def test_trace_is_equal(duck_ws: Workspace, spark_ws: Any,
                        scorecards: tuple[Scorecard, Scorecard]) -> None:
    rep = scorecards[0].reps[0].rep_id
    # Own-practice effort, account-attribute effort, and a measure's records.
    cases = [(rep, "prospecting", None), (rep, "icp_focus", None),
             (rep, "buying_process", "stage_velocity")]
    ec.assert_traces_equal(duck_ws, spark_ws, cases)
    assert trace(duck_ws, rep, "prospecting")["activities"]


def test_capped_training_sample_is_equal(duck_ws: Workspace, spark_ws: Any,
                                         model: JobModel) -> None:
    # The demo labels too few activities to reach the cap; a small cap makes the
    # sample depend on the ordering (an MD5 of the text, the same on both engines).
    from wholejob.textmodel import training_data

    duck = training_data(duck_ws, model, per_practice=3, total=20)
    ec.assert_same(duck, training_data(spark_ws, model, per_practice=3, total=20),
                   "training_data")
    full = training_data(duck_ws, model)
    assert len(duck[0]) < len(full[0])
