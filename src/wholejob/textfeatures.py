"""The text model's scores without scikit-learn's per-text Python: the same answers, faster.

scikit-learn's ``TfidfVectorizer.transform`` counts n-grams in Python, one text
and one n-gram at a time (about 2,000 activity texts a second here), which made
the text model most of the cost of classifying millions of activities.
:class:`NgramCounter` gives the linear model's decision scores on the TF-IDF
features of :class:`~wholejob.textmodel.TextPracticeClassifier`'s two
vectorisers (word n-grams, ``char_wb`` character n-grams of the text's head)
and the counts :meth:`~wholejob.textmodel.TextPracticeClassifier.known_share`
needs:

- texts of printable ASCII, tabs and line breaks (almost all CRM text) are
  scored by the compiled kernel of :mod:`wholejob.textkernel`, straight from
  the Arrow array's bytes, with no sparse matrix: the n-gram counts are
  scikit-learn's exactly, the scores within about 1e-7 of scikit-learn's (the
  float32 rounding of each character n-gram's TF-IDF value is skipped);
- anything else (accents, other scripts, rare control characters) goes through
  scikit-learn's own vectorisers and scipy's sparse product, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import _sparsetools

__all__ = ["NgramCounter"]

FloatArray = npt.NDArray[np.float64]


def _coef_t(coef: FloatArray, rows: npt.NDArray[np.int64]) -> FloatArray:
    """Return ``coef.T`` as one C-ordered float64 array, zero-padded to 8k classes.

    Features by classes, as the kernel reads it: feature ``f``'s coefficients
    are row ``rows[f]``, contiguous, and eight classes fill one 64-byte cache line.
    """
    c = np.asarray(coef, dtype=np.float64)
    k = -(-c.shape[0] // 8) * 8
    raw = np.zeros(c.shape[1] * k + 8)
    start = (-raw.ctypes.data % 64) // 8  # align row starts to cache lines
    out = raw[start:start + c.shape[1] * k].reshape(c.shape[1], k)
    out[rows, :c.shape[0]] = c.T
    return out


def _terms(vectorizer: Any) -> list[str]:
    """Return a fitted vectoriser's terms in column order."""
    vocab: dict[str, int] = vectorizer.vocabulary_
    return sorted(vocab, key=vocab.__getitem__)


def _log_table(size: int) -> npt.NDArray[np.float32]:
    """Return float32 ``1 + log(c)`` for counts 1 to ``size``, as scikit-learn's sublinear tf."""
    table = np.arange(1, size + 1, dtype=np.float32)
    np.log(table, table)
    table += 1.0
    return table


def _arrow_strings(texts: Sequence[str] | pa.Array) -> pa.Array:
    """Return ``texts`` as one Arrow string array without nulls (nulls read as "")."""
    arr = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(
        list(texts), pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    return arr


def _buffers(arr: pa.Array) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Return a string array's bytes and its ``n + 1`` offsets into them."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, width)[arr.offset:arr.offset + len(arr) + 1] \
        if off_buf is not None else np.zeros(1, width)
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None and data_buf.size \
        else np.zeros(1, np.uint8)
    return data, offsets.astype(np.int64)


class NgramCounter:
    """Decision scores and char n-gram counts of a fitted word + ``char_wb`` TF-IDF pair.

    ``word`` and ``char`` are the fitted ``TfidfVectorizer`` objects (lower-cased,
    sublinear tf, float32, l2 norm; the word one with the token pattern
    ``\\b\\w+\\b``); ``head_chars`` is how many characters of a text the char
    vectoriser's preprocessor keeps (``None``: all), ``char_range`` its n-gram
    lengths.
    """

    def __init__(self, word: Any, char: Any, head_chars: int | None,
                 char_range: tuple[int, int]) -> None:
        self.word, self.char = word, char
        self.head_chars = head_chars
        self.lo, self.hi = char_range
        # Imported here: loading numba costs about a second, which every CLI
        # command would pay at start-up though most never score a text.
        from wholejob.textkernel import vocab_table

        self._word_range = np.array(word.ngram_range, np.int64)
        self._char_range = np.array(char_range, np.int64)
        self._word_table = vocab_table(_terms(word))
        self._char_table = vocab_table(_terms(char))
        self._word_idf = np.asarray(word._tfidf.idf_, np.float32)
        self._char_idf = np.asarray(char._tfidf.idf_, np.float32)
        self._logt = _log_table(1024)
        # Coefficient rows in order of document frequency in training (common
        # n-grams first): the rows a text reads are then close together in memory.
        order = np.argsort(np.concatenate([self._word_idf, self._char_idf]), kind="stable")
        self._rows = np.empty(len(order), np.int64)
        self._rows[order] = np.arange(len(order))
        # The last linear model's coefficients and their transpose, as scores() uses them.
        self._coef: tuple[FloatArray, FloatArray] | None = None

    def scores(self, texts: Sequence[str] | pa.Array, coef: FloatArray,
               intercept: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return a linear model's scores, each text's known and total character n-grams.

        ``coef`` and ``intercept`` are a fitted linear model's (classes by
        features: word columns, then char columns). The scores are
        ``estimator.decision_function(vectorizer.transform(texts))`` within
        about 1e-7 (see :mod:`wholejob.textkernel`), bit for bit for texts that
        are not printable ASCII. ``known`` counts the distinct character n-grams
        of a text that are in the vocabulary; ``total`` all its character n-grams.
        """
        from wholejob.textkernel import score_batch

        if self._coef is None or self._coef[0] is not coef:
            self._coef = (coef, _coef_t(coef, self._rows))
        w = self._coef[1]
        arr = _arrow_strings(texts)
        data, offsets = _buffers(arr)
        longest = int(np.diff(offsets).max()) if len(arr) else 0
        if 4 * longest + 16 > len(self._logt):  # a char n-gram's count is below this
            self._logt = _log_table(4 * longest + 16)
        head = -1 if self.head_chars is None else self.head_chars
        y, known, total, slow = score_batch(
            data, offsets, head, self._word_range, self._char_range,
            *self._word_table, *self._char_table,
            self._word_idf, self._char_idf, self._logt, w, self._rows)
        y = y[:, :len(intercept)]
        if slow.any():
            self._score_slow(arr, np.flatnonzero(slow), w[self._rows, :len(intercept)], y, known,
                             total)
        scores: FloatArray = y + intercept
        return scores, known, total

    def _score_slow(self, arr: pa.Array, rows: npt.NDArray[np.intp], w: FloatArray,
                    y: FloatArray, known: FloatArray, total: FloatArray) -> None:
        """Fill in the rows of texts the kernel leaves to scikit-learn."""
        texts = arr.take(pa.array(rows)).to_pylist()
        part = np.zeros((len(rows), w.shape[1]), np.float64)
        n_word = len(self._word_idf)
        char = self.char.transform(texts).tocsr()
        for block, coef in ((self.word.transform(texts).tocsr(), w[:n_word]),
                            (char, w[n_word:])):
            block.sort_indices()
            _sparsetools.csr_matvecs(block.shape[0], block.shape[1], coef.shape[1],
                                     block.indptr, block.indices,
                                     block.data.astype(np.float64), coef.ravel(), part.ravel())
        y[rows] = part
        known[rows] = np.diff(char.indptr)
        total[rows] = self._python_totals(texts)

    def _python_totals(self, texts: list[str]) -> FloatArray:
        head = self.char.preprocessor
        return np.array([
            sum(max(len(w) + 2 - n + 1, 1) for w in head(t).split()
                for n in range(self.lo, self.hi + 1))
            for t in texts
        ], dtype=np.float64)
