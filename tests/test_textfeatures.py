"""Fast n-gram counting and grouped prediction give exactly scikit-learn's per-row answers."""

from __future__ import annotations

import resource

import numpy as np
import pyarrow as pa
import pytest
from scipy.special import softmax

from wholejob.demo import generate_demo
from wholejob.importing.importer import import_paths
from wholejob.jobmodel import load_job_model
from wholejob.textmodel import (
    KNOWN_SHARE_FULL,
    TextModel,
    _counter,
    activity_text,
    train_text_model,
)
from wholejob.workspace import init_workspace

TRICKY = [
    "", " ", "  \t ", "Café Überweisung naïve", "a b c", "x" * 300, "Hello\x1cworld",
    "tab\there\nnl\r\nx", "İstanbul call", "ǅemo", "a_b c-d e.f 12 3x", "ab", "a",
    "  leading and trailing  ", "UPPER lower MiXeD", "straße", "日本語 テキスト",
    "\x0bvt\x0cff", "ascii \x0b vt\x0c ff  \r\n\n end", "emoji 😀 call",
    "Cold call - Initech", "QBR w/ CFO, re: renewal (Q3)",
]


@pytest.fixture(scope="module")
def clf():
    return train_text_model(None, load_job_model())


@pytest.fixture(scope="module")
def demo_texts(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out / "data", reps=8, weeks=4, seed=5)
    ws = init_workspace(out / "ws")
    import_paths(ws, [out / "data"])
    acts = ws.table("activities")
    texts = acts.select(activity_id=acts.activity_id, text=activity_text(acts)).to_pyarrow()
    yield ws, texts
    ws.close()


def _reference(clf, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's own featurisation, one text per row: probabilities and known share."""
    x = clf.vectorizer_.transform(texts).tocsr()
    n_word = len(clf.vectorizer_.transformer_list[0][1].vocabulary_)
    proba = softmax(clf.estimator_.decision_function(x) / clf.temperature_, axis=1)
    return proba, clf._known_share(texts, x[:, n_word:])


def test_counter_gives_scikit_learns_matrix(clf, demo_texts):
    _, table = demo_texts
    texts = table.column("text").to_pylist()[:3000] + TRICKY
    ref = clf.vectorizer_.transform(texts).tocsr()
    ref.sort_indices()
    x, _, _ = _counter(clf).tfidf(pa.array(texts))
    assert x.shape == ref.shape
    assert np.array_equal(x.indptr, ref.indptr)
    assert np.array_equal(x.indices, ref.indices)
    assert np.array_equal(x.data, ref.data)


def test_fast_probabilities_and_known_share_are_identical(clf):
    proba, known = clf.predict_proba_known(TRICKY)
    ref_proba, ref_known = _reference(clf, TRICKY)
    assert np.array_equal(proba, ref_proba)
    assert np.array_equal(known, ref_known)


def test_grouped_prediction_equals_per_row_prediction(clf, demo_texts):
    """Predicting each distinct text once (grouped in the engine) changes no answer."""
    ws, table = demo_texts
    acts = ws.table("activities")
    got = TextModel(clf, batch_rows=500).predict_arrow(acts).sort_by("activity_id")
    want = table.sort_by("activity_id")
    assert got.column("activity_id").equals(want.column("activity_id"))
    texts = want.column("text").to_pylist()
    proba, known = _reference(clf, texts)
    best = proba.argmax(axis=1)
    conf = np.minimum(proba[np.arange(len(best)), best], known / KNOWN_SHARE_FULL)
    assert got.column("practice").to_pylist() == [str(clf.classes_[i]) for i in best]
    assert np.array_equal(got.column("confidence").to_numpy(), conf)


def test_scores_equal_the_svms_decision_on_the_stacked_matrix(clf, demo_texts):
    """Scoring the word and char blocks in turn is bit for bit the SVM's own decision."""
    _, table = demo_texts
    texts = pa.array(table.column("text").to_pylist()[:3000] + TRICKY)
    counter = _counter(clf)
    x, known, total = counter.tfidf(texts)
    scores, known2, total2 = counter.scores(texts, clf.estimator_.coef_,
                                            clf.estimator_.intercept_)
    assert np.array_equal(scores, clf.estimator_.decision_function(x))
    assert np.array_equal(known, known2)
    assert np.array_equal(total, total2)
    # A different model's coefficients are not mixed up with the first one's.
    doubled = counter.scores(texts, clf.estimator_.coef_ * 2, clf.estimator_.intercept_)[0]
    assert np.array_equal(doubled, x @ (clf.estimator_.coef_ * 2).T + clf.estimator_.intercept_)


def test_workers_predict_exactly_what_one_process_does(clf, demo_texts):
    """Batches spread over worker processes come back complete, in place, unchanged."""
    ws, table = demo_texts
    acts = ws.table("activities")
    one = TextModel(clf, batch_rows=300, workers=1).predict_arrow(acts)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    two = TextModel(clf, batch_rows=300, workers=2).predict_arrow(acts)
    # The workers did the predicting (their CPU time is counted once they exit).
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > before
    assert table.num_rows > 3 * 300
    assert two.num_rows == table.num_rows
    assert two.sort_by("activity_id").equals(one.sort_by("activity_id"))
