"""Stored text-model answers: reused exactly, only new texts predicted, one model's only."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import load_job_model
from wholejob.textmodel import CACHE_DIR, TextModel, activity_text, workspace_text_model
from wholejob.textstore import PREFIX, PredictionStore, hex_keys, md5_keys, text_keys
from wholejob.workspace import init_workspace


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    out = tmp_path_factory.mktemp("store")
    generate_demo(out / "data", reps=6, weeks=3, seed=11)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    yield ws
    ws.close()


@pytest.fixture
def fresh(demo_ws):
    """The demo workspace with no stored predictions; its text model (trained once)."""
    for f in (demo_ws.path / CACHE_DIR).glob(f"{PREFIX}*"):
        f.unlink()
    tm = workspace_text_model(demo_ws, load_job_model())
    return demo_ws, tm


def _stored(tm: TextModel) -> list:
    return sorted(tm.store_dir.glob(f"{PREFIX}*"))


def _sorted(t: pa.Table) -> pa.Table:
    t = t.sort_by("activity_id")
    return t.set_column(1, "practice", pc.cast(t.column("practice"), pa.string()))


def _tamper(path, confidence: float) -> None:
    """Overwrite every stored confidence, so answers read from the store are recognisable."""
    t = pq.read_table(path)
    pq.write_table(t.set_column(3, "confidence", pa.array([confidence] * t.num_rows)), path)


def test_a_second_run_reads_every_answer_from_the_store(fresh):
    ws, tm = fresh
    acts = ws.table("activities")
    first = _sorted(tm.predict_arrow(acts))
    no_store = _sorted(TextModel(tm.classifier).predict_arrow(acts))
    assert first.equals(no_store)
    [path] = _stored(tm)
    assert tm.model_key in path.name
    # One answer per distinct text.
    assert pq.read_table(path).num_rows == acts.select(
        t=activity_text(acts)).distinct().count().execute()
    # Unchanged: the second run gives the same answers, from the store.
    assert _sorted(tm.predict_arrow(acts)).equals(first)
    _tamper(path, 0.123)
    again = _sorted(tm.predict_arrow(acts))
    assert set(again.column("confidence").to_pylist()) == {0.123}
    assert again.column("practice").equals(first.column("practice"))


def test_only_new_texts_are_predicted_after_an_import(fresh):
    ws, tm = fresh
    acts = ws.table("activities")
    ids = sorted(acts.select("activity_id").to_pyarrow().column(0).to_pylist())
    cut = ids[len(ids) // 2]
    old = acts.filter(acts.activity_id < cut)
    tm.predict_arrow(old)
    [path] = _stored(tm)
    _tamper(path, 0.123)
    # Small batches over two workers: the new texts of many batches are gathered.
    small = TextModel(tm.classifier, batch_rows=40, workers=2, store_dir=tm.store_dir,
                      model_key=tm.model_key)
    got = _sorted(small.predict_arrow(acts))
    want = _sorted(TextModel(tm.classifier).predict_arrow(acts))
    conf = np.array(got.column("confidence").to_pylist())
    ref = np.array(want.column("confidence").to_pylist())
    stored = conf == 0.123
    old_ids = set(old.select("activity_id").to_pyarrow().column(0).to_pylist())
    is_old = np.array([i in old_ids for i in got.column("activity_id").to_pylist()])
    # Old rows come from the store; new rows whose text is also new are predicted.
    assert stored[is_old].all()
    assert stored.sum() < len(stored)
    assert np.array_equal(conf[~stored], ref[~stored])
    # The store now holds the old texts (still tampered) and the new ones.
    assert pq.read_table(path).num_rows > pq.read_table(path).column("confidence").to_pylist(
    ).count(0.123)


def test_another_model_never_reads_the_stored_answers(fresh):
    ws, tm = fresh
    acts = ws.table("activities")
    tm.predict_arrow(acts)
    [path] = _stored(tm)
    _tamper(path, 0.123)
    other = TextModel(tm.classifier, store_dir=tm.store_dir, model_key="another-model")
    got = other.predict_arrow(acts)
    assert 0.123 not in got.column("confidence").to_pylist()
    # Writing the new model's answers removed the old model's file.
    [new_path] = _stored(tm)
    assert "another-model" in new_path.name and not path.exists()


def test_an_unreadable_store_is_ignored_and_replaced(fresh):
    ws, tm = fresh
    acts = ws.table("activities")
    want = _sorted(tm.predict_arrow(acts))
    [path] = _stored(tm)
    path.write_bytes(b"not parquet")
    assert _sorted(tm.predict_arrow(acts)).equals(want)
    assert pq.read_table(path).num_rows > 0
    assert not list(path.parent.glob("*.tmp"))


def test_text_keys_tell_texts_apart():
    hi, lo = text_keys(pa.array(["Cold call", "cold call", "Cold call", None, ""]))
    keys = list(zip(hi.tolist(), lo.tolist(), strict=True))
    assert keys[0] == keys[2] and keys[0] != keys[1]
    assert keys[3] == keys[4]  # a null text is read as ""


def test_the_store_keeps_what_the_latest_run_used_when_full(tmp_path):
    def keys(texts):
        return text_keys(pa.array(texts))

    store = PredictionStore(tmp_path, "m", max_texts=10)
    first = [f"text {i}" for i in range(8)]
    store.add(*keys(first), np.arange(8, dtype=np.int16), np.linspace(0, 1, 8))
    store.save()
    store = PredictionStore(tmp_path, "m", max_texts=10)
    assert len(store) == 8
    found, best, conf = store.lookup(*keys(["text 1", "text 5", "text 7", "unknown"]))
    assert found.tolist() == [True, True, True, False]
    assert best.tolist() == [1, 5, 7]
    assert np.array_equal(conf, np.linspace(0, 1, 8)[[1, 5, 7]])
    new = [f"new {i}" for i in range(6)]
    store.add(*keys(new), np.zeros(6, np.int16), np.ones(6))
    store.save()
    store = PredictionStore(tmp_path, "m", max_texts=10)
    # 8 + 6 > 10: the five old texts this run did not use are dropped.
    assert len(store) == 9
    found, _, _ = store.lookup(*keys(["text 1", "text 0", "new 3"]))
    assert found.tolist() == [True, False, True]


def test_keys_sharing_their_high_half_are_told_apart_by_the_low_half(tmp_path):
    u = np.uint64
    store = PredictionStore(tmp_path, "m")
    store.add(np.array([5, 5, 5, 7], u), np.array([3, 1, 2, 1], u),
              np.array([0, 1, 2, 3], np.int16), np.array([0.1, 0.2, 0.3, 0.4]))
    store.save()
    store = PredictionStore(tmp_path, "m")
    found, best, conf = store.lookup(np.array([5, 5, 7, 6, 5], u), np.array([2, 4, 1, 1, 3], u))
    assert found.tolist() == [True, False, True, False, True]
    assert best.tolist() == [2, 3, 0]
    assert conf.tolist() == [0.3, 0.4, 0.1]


def test_md5_keys_read_the_engines_hex_digests():
    import hashlib

    digest = hashlib.md5(b"").digest()  # d41d8cd98f00b204e9800998ecf8427e
    hi, lo = md5_keys(pa.array([digest.hex(), digest.hex().upper()]))
    assert hi.tolist() == [int.from_bytes(digest[:8], "little")] * 2
    assert lo.tolist() == [int.from_bytes(digest[8:], "little")] * 2
    assert md5_keys(pa.array([], pa.string()))[0].size == 0
    sliced = pa.array(["0" * 32, digest.hex()])[1:]  # an offset into the buffer
    assert md5_keys(sliced)[0].tolist() == [int.from_bytes(digest[:8], "little")]
    for bad in (["xyz"], ["g" * 32], [None]):
        with pytest.raises((ValueError, pa.ArrowInvalid)):
            md5_keys(pa.array(bad, pa.string()))


def test_hex_keys_give_back_the_engines_digests():
    """The stored keys go back to the engine as the lower-case hex digests it computes."""
    import hashlib

    digests = [hashlib.md5(t.encode()).hexdigest() for t in ("a", "Cold call", "", "日本")]
    back = hex_keys(*md5_keys(pa.array([d.upper() for d in digests])))
    assert back.type == pa.string()
    assert back.to_pylist() == digests
    assert hex_keys(np.empty(0, np.uint64), np.empty(0, np.uint64)).to_pylist() == []
