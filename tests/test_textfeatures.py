"""Compiled scoring and grouped prediction give scikit-learn's per-row answers.

The kernel sums each word's character n-gram terms once per batch, so its
scores differ from scikit-learn's in the last float32 digits of the TF-IDF
values (about 1e-7 of a score); the predicted practice is the same and the
confidence within 1e-6. Texts outside printable ASCII go through scikit-learn
itself and stay bit for bit equal.
"""

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
    "no no no no no", "la la la banana bandana", "aaaaaaaaaa aaaa aa a", "x\x00y \x01z",
    "Call " * 60, "e-mail e-mail E-MAIL", "re: re: re: follow-up",
]
# Scores: float32 TF-IDF values rounded in another order than scikit-learn's.
SCORE_TOL = 1e-6


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


def test_scores_match_scikit_learns_decision_function(clf, demo_texts):
    _, table = demo_texts
    texts = table.column("text").to_pylist()[:3000] + TRICKY
    x = clf.vectorizer_.transform(texts).tocsr()
    n_word = len(clf.vectorizer_.transformer_list[0][1].vocabulary_)
    ref = clf.estimator_.decision_function(x)
    scores, known, total = _counter(clf).scores(pa.array(texts), clf.estimator_.coef_,
                                                clf.estimator_.intercept_)
    assert np.allclose(scores, ref, rtol=0, atol=SCORE_TOL)
    assert np.array_equal(scores.argmax(axis=1), ref.argmax(axis=1))
    assert np.array_equal(known, np.diff(x[:, n_word:].indptr))
    share = np.where(total > 0, np.minimum(known / np.maximum(total, 1), 1.0), 0.0)
    assert np.array_equal(share, clf._known_share(texts, x[:, n_word:]))
    # Texts that are not printable ASCII are scored by scikit-learn itself: exactly.
    slow = [i for i, t in enumerate(texts)
            if not t.isascii() or any(c in t for c in "\x0b\x0c\x1c")]
    assert slow and np.array_equal(scores[slow], ref[slow])


def test_sublinear_tf_table_is_numpys_log(clf):
    """``1 + log(count)`` from the table is what scikit-learn's in-place np.log gives."""
    from wholejob.textfeatures import _log_table

    table = _log_table(5000)
    rng = np.random.default_rng(0)
    for n in (1, 3, 7, 16, 33, 1000):
        counts = rng.integers(1, 5001, n).astype(np.float32)
        want = counts.copy()
        np.log(want, want)
        want += 1.0
        assert np.array_equal(table[counts.astype(np.int64) - 1], want)


def test_fast_probabilities_and_known_share_match(clf):
    proba, known = clf.predict_proba_known(TRICKY)
    ref_proba, ref_known = _reference(clf, TRICKY)
    assert np.allclose(proba, ref_proba, rtol=0, atol=SCORE_TOL)
    assert np.array_equal(proba.argmax(axis=1), ref_proba.argmax(axis=1))
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
    assert np.allclose(got.column("confidence").to_numpy(), conf, rtol=0, atol=SCORE_TOL)


def test_scores_follow_the_coefficients_they_are_given(clf, demo_texts):
    """A different model's coefficients are not mixed up with the first one's."""
    _, table = demo_texts
    texts = pa.array(table.column("text").to_pylist()[:3000] + TRICKY)
    counter = _counter(clf)
    coef, icpt = clf.estimator_.coef_, clf.estimator_.intercept_
    once = counter.scores(texts, coef, icpt)[0]
    doubled = counter.scores(texts, coef * 2, icpt)[0]
    assert np.allclose(doubled - icpt, 2 * (once - icpt), rtol=0, atol=SCORE_TOL)
    assert np.array_equal(counter.scores(texts, coef, icpt)[0], once)


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
