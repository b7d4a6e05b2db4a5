"""The text model: a statistical classifier that predicts a practice from activity text.

Rules decide first; this model decides what they leave open and overrules the
rules it confidently doubts (see :func:`wholejob.classification.arbitrate`). It
is a linear model over TF-IDF word 1-2-grams and character 2-5-grams (within
word boundaries, so typos and abbreviations such as "negoitation" or "disco"
still share most features with the spelled-out word). It is trained on the job
model's labelled example phrases, the packaged training phrases
(``data/training_phrases.toml``) and a capped, stratified sample of the
workspace's explicitly labelled activities, with a fixed ``random_state``, so
the same data gives the same model.
Nothing is downloaded.

Confidences are calibrated by temperature scaling: the softmax of the decision
scores divided by a temperature fitted on out-of-fold scores, so a confidence of
0.8 means about 80% of such predictions are right on held-out phrases.

:class:`TextModel` adapts a fitted classifier to the
:class:`~wholejob.classification.TextClassifier` protocol over an Ibis table: it
streams only ``activity_id`` and the text to Python in Arrow batches, predicts
each batch's distinct texts in one vectorised call, and hands the predictions
back to the engine as a table.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import tomllib
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import joblib
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import sklearn
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from wholejob import __version__
from wholejob.jobmodel import JobModel
from wholejob.textfeatures import NgramCounter
from wholejob.textparallel import default_workers, predict_chunks, workers_available
from wholejob.textstore import (
    CACHE_DIR,
    PredictionStore,
    answer_table,
    hex_keys,
    md5_keys,
    replace_cache_file,
)

if TYPE_CHECKING:
    from wholejob.workspace import Workspace

__all__ = [
    "KNOWN_SHARE_FULL",
    "MAX_LABELLED",
    "MAX_LABELLED_PER_PRACTICE",
    "MAX_TEXT_CHARS",
    "TextModel",
    "TextPracticeClassifier",
    "activity_text",
    "best_and_confidence",
    "packaged_training_phrases",
    "record_batches",
    "train_text_model",
    "trainable_practices",
    "training_data",
    "workspace_text_model",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Keys = npt.NDArray[np.uint64]
Best = npt.NDArray[np.int16]

# Long email bodies add little past their first lines and cost time per row.
MAX_TEXT_CHARS = 1000
# Cap on explicitly labelled workspace activities used for training, in total and
# per practice, so training time and memory stay bounded on any workspace.
MAX_LABELLED = 15_000
MAX_LABELLED_PER_PRACTICE = 1_000
# A prediction keeps its calibrated confidence when at least this share of the
# text's character n-grams was seen in training; below it, the confidence is
# capped at share / KNOWN_SHARE_FULL, so gibberish falls under the abstention floor.
KNOWN_SHARE_FULL = 0.6
# Distinct texts pulled from the engine per batch when predicting; each batch is
# one task for a worker, small enough that its matrices stay near 100 MB.
BATCH_ROWS = 25_000
# Fitted models kept in memory per process, keyed like the disk cache, so the
# many scorecards of one process (tests, the web app) train each model once.
_MEMORY: OrderedDict[str, TextPracticeClassifier] = OrderedDict()
_MEMORY_SIZE = 4


class _Head:
    """Lower-case a text and keep its first ``n`` characters (all of it for ``None``)."""

    def __init__(self, n: int | None) -> None:
        self.n = n

    def __call__(self, text: str) -> str:
        return (text if self.n is None else text[: self.n]).lower()


class TextPracticeClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Predict a practice from free text with a linear SVM over word and character n-grams.

    Parameters follow scikit-learn's conventions: ``C`` is the SVM's inverse
    regularisation, ``word_ngram_range`` and ``char_ngram_range`` the n-gram
    lengths of the two TF-IDF feature sets, ``max_features`` caps each
    vocabulary, ``char_max_chars`` limits character n-grams to the start of each
    text (the subject and the first words of the body: character n-grams are
    the costly part of prediction, and words cover the rest),
    ``calibration_folds`` the folds used to fit the temperature of the
    confidences (fewer than 2 disables calibration), ``random_state`` fixes
    every random choice. Fitted attributes: ``classes_``, ``vectorizer_``,
    ``estimator_``, ``temperature_``, ``n_features_``.
    """

    def __init__(
        self,
        *,
        C: float = 0.5,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        max_features: int | None = 300_000,
        class_weight: str | None = "balanced",
        char_max_chars: int | None = 160,
        calibration_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.max_features = max_features
        self.class_weight = class_weight
        self.char_max_chars = char_max_chars
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _vectorizer(self) -> FeatureUnion:
        common: dict[str, Any] = {
            "lowercase": True, "sublinear_tf": True, "dtype": np.float32,
            "max_features": self.max_features, "strip_accents": "unicode",
        }
        return FeatureUnion([
            ("word", TfidfVectorizer(analyzer="word", ngram_range=self.word_ngram_range,
                                     token_pattern=r"(?u)\b\w+\b", **common)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngram_range,
                                     preprocessor=_Head(self.char_max_chars), **common)),
        ])

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight=self.class_weight,
                         random_state=self.random_state)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextPracticeClassifier:
        """Fit the vectoriser, the SVM and the confidence temperature; return self."""
        y = np.asarray(labels, dtype=object)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} labels")
        if len(set(y.tolist())) < 2:
            raise ValueError("need examples of at least two practices to fit")
        self.vectorizer_ = self._vectorizer()
        x = self.vectorizer_.fit_transform(list(texts))
        self.estimator_ = self._svm().fit(x, y)
        self.classes_ = self.estimator_.classes_
        self.n_features_ = int(x.shape[1])
        self.temperature_ = self._fit_temperature(x, y)
        return self

    def _fit_temperature(self, x: Any, y: npt.NDArray[Any]) -> float:
        """Return the temperature minimising the log loss of out-of-fold decision scores."""
        _, counts = np.unique(y, return_counts=True)
        folds = min(self.calibration_folds, int(counts.min()))
        if folds < 2:
            return 1.0
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        scores = cross_val_predict(self._svm(), x, y, cv=cv, method="decision_function")
        target = np.searchsorted(self.classes_, y)

        def loss(log_t: float) -> float:
            logp = log_softmax(scores / np.exp(log_t), axis=1)
            return float(-logp[np.arange(len(y)), target].mean())

        best = minimize_scalar(loss, bounds=(np.log(0.01), np.log(10.0)), method="bounded")
        return float(np.exp(best.x))

    def decision_function(self, texts: Sequence[str]) -> FloatArray:
        """Return the SVM's score of each text for each class (rows by ``classes_``)."""
        scores: FloatArray = self.estimator_.decision_function(
            self.vectorizer_.transform(list(texts))
        )
        return scores

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Return calibrated probabilities of each class for each text (rows sum to 1)."""
        proba: FloatArray = softmax(self.decision_function(texts) / self.temperature_, axis=1)
        return proba

    def known_share(self, texts: Sequence[str]) -> FloatArray:
        """Return the share of each text's character n-grams seen in training (0 to 1).

        Temperature scaling is calibrated on phrases like the training data; a
        text made of n-grams the model never saw ("zzqx") still gets a confident
        softmax from the intercepts alone. This share says how much of the text
        the model actually read, so callers can discount or refuse such answers.
        """
        char = self.vectorizer_.transformer_list[1][1]
        return self._known_share(texts, char.transform(list(texts)))

    def _known_share(self, texts: Sequence[str], char_x: Any) -> FloatArray:
        known = np.diff(char_x.tocsr().indptr).astype(np.float64)
        lo, hi = self.char_ngram_range
        head = _Head(self.char_max_chars)
        total = np.array([
            sum(max(len(w) + 2 - n + 1, 1) for w in head(t).split() for n in range(lo, hi + 1))
            for t in texts
        ], dtype=np.float64)
        share: FloatArray = np.where(total > 0, np.minimum(known / np.maximum(total, 1), 1.0),
                                     0.0)
        return share

    def predict_proba_known(
        self, texts: Sequence[str] | pa.Array
    ) -> tuple[FloatArray, FloatArray]:
        """Return :meth:`predict_proba` and :meth:`known_share` from one feature extraction.

        The scores come from :class:`~wholejob.textfeatures.NgramCounter`: the
        SVM's decision within about 1e-7, many times faster than scikit-learn's
        transform; ``texts`` may be an Arrow string array.
        """
        scores, known, total = _counter(self).scores(texts, self.estimator_.coef_,
                                                     self.estimator_.intercept_)
        proba: FloatArray = softmax(scores / self.temperature_, axis=1)
        share: FloatArray = np.where(total > 0, np.minimum(known / np.maximum(total, 1), 1.0),
                                     0.0)
        return proba, share

    def predict(self, texts: Sequence[str]) -> npt.NDArray[Any]:
        """Return the most likely practice of each text."""
        return np.asarray(self.classes_[self.decision_function(texts).argmax(axis=1)])

    def top_features(self, text: str, practice: str, n: int = 8) -> list[tuple[str, float]]:
        """Return the n-grams of ``text`` that push it most towards ``practice``, with weights."""
        row = self.vectorizer_.transform([text]).tocsr()
        k = int(np.searchsorted(self.classes_, practice))
        coef = self.estimator_.coef_[k]
        names = self.vectorizer_.get_feature_names_out()
        contrib = [(str(names[j]), float(v * coef[j])) for j, v in
                   zip(row.indices, row.data, strict=True)]
        contrib.sort(key=lambda kv: -kv[1])
        return [(name.split("__", 1)[1], round(w, 4)) for name, w in contrib[:n] if w > 0]


_COUNTERS: weakref.WeakKeyDictionary[TextPracticeClassifier, NgramCounter] = (
    weakref.WeakKeyDictionary()
)


def _counter(clf: TextPracticeClassifier) -> NgramCounter:
    """Return the fitted classifier's n-gram counter (built once, kept while it lives)."""
    counter = _COUNTERS.get(clf)
    if counter is None:
        word, char = (t for _, t in clf.vectorizer_.transformer_list)
        counter = NgramCounter(word, char, clf.char_max_chars, clf.char_ngram_range)
        _COUNTERS[clf] = counter
    return counter


def record_batches(table: ibis.Table, rows: int) -> Iterator[pa.RecordBatch]:
    """Yield a table's rows as Arrow record batches of at most ``rows`` rows."""
    # ibis 12 streams DuckDB results through a DuckDB 1.5 call that warns it is
    # deprecated; the warning is theirs to fix and not the user's concern.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
        yield from table.to_pyarrow_batches(chunk_size=rows)


# string.whitespace (what the engines' TRIM removes), as their regular expressions read it.
_WHITESPACE = r"[ \t\n\r\x0b\x0c]"


def activity_text(activities: ibis.Table) -> ir.StringValue:
    """Return the text the model reads: subject and body, at most :data:`MAX_TEXT_CHARS`.

    The joined text is stripped of leading and trailing whitespace. DuckDB's
    TRIM with a set of characters costs about 0.9 µs per activity (8 of the 11
    CPU seconds of building 10 M texts), so it runs only where an end is
    whitespace; anchored regular expressions check the two ends without reading
    the text between them. The result is the same as stripping every text.
    """
    text = activities.subject.fill_null("") + " " + activities.body.fill_null("")
    edge = text.re_search(f"^{_WHITESPACE}") | text.re_search(f"{_WHITESPACE}$")
    return ibis.cases((edge, text.strip()), else_=text).substr(0, MAX_TEXT_CHARS)


def best_and_confidence(
    clf: TextPracticeClassifier, texts: pa.Array
) -> tuple[npt.NDArray[np.int16], FloatArray]:
    """Return each text's most likely class (index into ``classes_``) and its confidence.

    The confidence is the calibrated probability, capped for a text the model
    barely knows at the share of it the model read (see ``known_share``).
    """
    proba, known = clf.predict_proba_known(texts)
    best = proba.argmax(axis=1)
    conf: FloatArray = np.minimum(proba[np.arange(len(best)), best], known / KNOWN_SHARE_FULL)
    return best.astype(np.int16), conf


def _keep(store: PredictionStore, new: tuple[Keys, Keys, Best, FloatArray],
          used: ibis.Table | None) -> None:
    """Add the ``new`` answers (keys, classes, confidences) to the store and save it.

    ``used`` (the stored answers this run joined) is fetched only when the store
    is full, so the answers it drops are ones this run did not need.
    """
    n = len(new[0])
    if n:
        if store.full_after(n) and used is not None:
            store.lookup(*md5_keys(used.select("_md5").to_pyarrow().column(0)))
        store.add(*new)
        store.save()


@dataclass
class TextModel:
    """A fitted classifier as a :class:`~wholejob.classification.TextClassifier` over Ibis.

    ``classifier`` is a fitted :class:`TextPracticeClassifier`; ``batch_rows``
    bounds how many distinct texts are in Python at once (per worker), and
    ``workers`` how many processes predict (``None``: one per core; 1: this
    process only; also where workers cannot be started, see :mod:`wholejob.textparallel`).
    With ``store_dir`` and ``model_key``, answers are kept per text
    (:mod:`wholejob.textstore`).
    """

    classifier: TextPracticeClassifier
    batch_rows: int = BATCH_ROWS
    workers: int | None = None
    store_dir: Path | None = None
    model_key: str | None = None

    def _workers(self) -> int:
        if not workers_available():
            return 1
        return self.workers if self.workers is not None else default_workers()

    def _store(self) -> PredictionStore | None:
        if self.store_dir is None or self.model_key is None:
            return None
        return PredictionStore(self.store_dir, self.model_key)

    def predict(self, activities: ibis.Table) -> ibis.Table:
        """Return every activity's ``activity_id``, ``practice``, ``confidence`` as an engine table.

        The engine keys each activity by the MD5 of its text; only distinct
        texts the model has not answered before leave the engine, in batches, to
        be predicted (one answer per distinct text, however many activities share
        it). The answers go back as one table, and the engine joins them to the
        activities, so a re-analysis whose texts are all stored moves no text
        and no activity through Python. With a store (``store_dir`` and
        ``model_key``), the new answers are added to it (see
        :mod:`wholejob.textstore`).
        """
        # Not kept in a temporary table: computing the keys again for the final
        # join costs no more time at 10 M and keeps 0.3 GB out of memory. A view,
        # because the answers are joined to tables it derives from.
        t = activities.select(
            activity_id=activities.activity_id,
            _md5=activity_text(activities).hexdigest("md5"),
        ).view()
        store = self._store()
        stored = store.answers() if store is not None else None
        known = ibis.memtable(stored) if stored is not None and stored.num_rows else None
        todo = t if known is None else t.anti_join(known, "_md5")
        # Many activities share a text ("Cold call", "expenses"): one row per text,
        # whose text is built again only for the activity that stands for it.
        todo = todo.group_by("_md5").aggregate(_id=todo.activity_id.arbitrary())
        a = activities.view()  # joined to a table derived from it
        texts = a.select(_tid=a.activity_id, _text=activity_text(a))
        todo = todo.inner_join(texts, todo._id == texts._tid).select("_md5", "_text")
        hi, lo, best, conf = self._predict_texts(todo)
        if store is not None:
            _keep(store, (hi, lo, best, conf),
                  None if known is None else known.semi_join(t, "_md5"))
        log.info("text model: %d distinct texts predicted; the store held %d answers",
                 len(hi), 0 if stored is None else stored.num_rows)
        new = answer_table(hex_keys(hi, lo), best, conf) if len(hi) else None
        parts = [p for p in (known, None if new is None else ibis.memtable(new))
                 if p is not None]
        if not parts:
            return ibis.memtable(pa.table({"activity_id": pa.array([], pa.string()),
                                           "practice": pa.array([], pa.string()),
                                           "confidence": pa.array([], pa.float64())}))
        answers = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
        j = t.inner_join(answers, "_md5")
        names = {i: str(c) for i, c in enumerate(self.classifier.classes_)}
        # A view: the caller joins the answers to tables they were derived from.
        return j.select(
            activity_id=j.activity_id,
            practice=j._best.cast("int64").substitute(names, else_=ibis.null("string")),
            confidence=j._confidence,
        ).view()

    def _predict_texts(self, todo: ibis.Table) -> tuple[Keys, Keys, Best, FloatArray]:
        """Return the keys (two halves of the MD5), classes and confidences of ``todo``'s texts."""
        def chunks() -> Iterator[tuple[pa.Array, tuple[Keys, Keys]]]:
            for batch in record_batches(todo, self.batch_rows):
                if batch.num_rows:
                    # As NumPy at once: an Arrow column would keep its whole batch
                    # (the texts too) alive, 1 GB of texts by the end of 9 M.
                    yield batch.column("_text"), md5_keys(batch.column("_md5"))

        predict = functools.partial(best_and_confidence, self.classifier)
        parts: list[tuple[Keys, Keys, Best, FloatArray]] = []
        for (hi, lo), best, conf in predict_chunks(predict, chunks(), self._workers()):
            parts.append((hi, lo, best, conf))
        if not parts:
            return (np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, np.int16),
                    np.empty(0, np.float64))
        his, los, bests, confs = zip(*parts, strict=True)
        parts.clear()
        return (np.concatenate(his), np.concatenate(los), np.concatenate(bests),
                np.concatenate(confs))

    def predict_arrow(self, activities: ibis.Table) -> pa.Table:
        """:meth:`predict`, fetched as Arrow (for tests and small tables)."""
        return self.predict(activities).to_pyarrow()


@cache
def packaged_training_phrases() -> dict[str, tuple[str, ...]]:
    """Return the packaged training phrases per practice (``data/training_phrases.toml``).

    Written apart from the job model's examples, the demo's phrase pools and the
    evaluation set, in the many ways reps type CRM entries; they widen what the
    text model has seen beyond the two dozen examples of each practice.
    """
    text = resources.files("wholejob").joinpath("data", "training_phrases.toml").read_text(
        encoding="utf-8"
    )
    raw = tomllib.loads(text)["practices"]
    return {pid: tuple(v["phrases"]) for pid, v in raw.items()}


def trainable_practices(model: JobModel) -> list[str]:
    """Return the practices the text model may predict: all but those with no time of their own."""
    return [p for p in model.all_ids if p not in model.quality_ids]


def _workspace_examples(
    ws: Workspace, practices: list[str], *, per_practice: int, total: int
) -> tuple[list[str], list[str]]:
    """Return a stratified, deterministic sample of the workspace's labelled activities."""
    acts = ws.table("activities")
    labelled = acts.filter(acts.practice.isin(practices)).select(
        text=activity_text(acts), label=acts.practice
    ).filter(lambda t: t.text != "").distinct()
    # MD5, not hash(): hash() is each engine's own function (DuckDB's and
    # Spark's murmur3 differ), so a capped sample would differ between engines.
    ranked = labelled.mutate(
        _rn=ibis.row_number().over(group_by="label", order_by=[labelled.text.hexdigest("md5"),
                                                               labelled.text])
    )
    sample = ranked.filter(ranked._rn < per_practice).order_by(["_rn", "label"]).limit(total)
    rows = sample.select("text", "label").to_pyarrow()
    return rows.column("text").to_pylist(), rows.column("label").to_pylist()


def training_data(
    ws: Workspace | None,
    model: JobModel,
    *,
    per_practice: int = MAX_LABELLED_PER_PRACTICE,
    total: int = MAX_LABELLED,
) -> tuple[list[str], list[str]]:
    """Return the training texts and labels: job-model examples, packaged phrases, labels.

    The packaged training phrases count for practices whose id the model
    keeps. Workspace activities whose ``practice`` names a trainable practice are
    sampled (distinct texts, at most ``per_practice`` each and ``total`` in all,
    picked by the MD5 of the text so the sample is the same every run and on
    every engine). The result is sorted, so the same data always trains the same
    model.
    """
    practices = trainable_practices(model)
    pairs = {(ex, pid) for pid in practices for ex in model.practices[pid].examples}
    extra = packaged_training_phrases()
    pairs.update((ph, pid) for pid in practices for ph in extra.get(pid, ()))
    if ws is not None:
        texts, labels = _workspace_examples(ws, practices, per_practice=per_practice,
                                            total=total)
        pairs.update(zip(texts, labels, strict=True))
    ordered = sorted(pairs, key=lambda p: (p[1], p[0]))
    return [t for t, _ in ordered], [label for _, label in ordered]


def _cache_key(texts: list[str], labels: list[str], clf: TextPracticeClassifier) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([__version__, sklearn.__version__, repr(clf.get_params())]).encode())
    for t, label in zip(texts, labels, strict=True):
        h.update(label.encode() + b"\x1f" + t.encode() + b"\x1e")
    return h.hexdigest()[:20]


def _load_cached(path: Path) -> TextPracticeClassifier | None:
    try:
        clf = joblib.load(path)
    except (OSError, EOFError, ValueError, AttributeError, ImportError) as e:
        log.info("ignoring unreadable text-model cache %s: %s", path, e)
        return None
    return clf if isinstance(clf, TextPracticeClassifier) else None


def _store_cached(path: Path, clf: TextPracticeClassifier) -> None:
    """Write the fitted model atomically; a workspace we cannot write to just is not cached."""
    replace_cache_file(path, "text-model-*.joblib", lambda tmp: joblib.dump(clf, tmp, compress=3))


def train_text_model(
    ws: Workspace | None,
    model: JobModel,
    *,
    classifier: TextPracticeClassifier | None = None,
    cache: bool = True,
) -> TextPracticeClassifier:
    """Train the text classifier on the job model's phrases and the workspace's labels.

    With ``cache``, the fitted model is kept in memory for the process and, with
    a workspace, stored in the workspace's ``cache/`` folder, under a hash of its
    training data and parameters, and reused while neither changes (the cache is
    the user's own file; only the newest model is kept). A model from the cache
    is shared: do not refit it.
    """
    return _train(ws, model, classifier=classifier, cache=cache)[0]


def _train(
    ws: Workspace | None,
    model: JobModel,
    *,
    classifier: TextPracticeClassifier | None = None,
    cache: bool = True,
) -> tuple[TextPracticeClassifier, str]:
    """Return :func:`train_text_model`'s model and its cache key."""
    clf = classifier if classifier is not None else TextPracticeClassifier()
    texts, labels = training_data(ws, model)
    key = _cache_key(texts, labels, clf)
    if not cache:
        return clf.fit(texts, labels), key
    path = ws.path / CACHE_DIR / f"text-model-{key}.joblib" if ws is not None else None
    cached = _MEMORY.get(key)
    if cached is None and path is not None and path.is_file():
        cached = _load_cached(path)
    if cached is None:
        cached = clf.fit(texts, labels)
    if path is not None and not path.is_file():
        _store_cached(path, cached)
    _MEMORY[key] = cached
    _MEMORY.move_to_end(key)
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return cached, key


def workspace_text_model(ws: Workspace | None, model: JobModel) -> TextModel:
    """Return the workspace's text model, ready to fill what rules leave unmatched.

    With a workspace, the model's answers are stored per text in its ``cache/``
    folder (:mod:`wholejob.textstore`), so the next analysis predicts only texts
    it has not read.
    """
    clf, key = _train(ws, model)
    if ws is None:
        return TextModel(clf)
    return TextModel(clf, store_dir=ws.path / CACHE_DIR, model_key=key)
