"""Vectorised n-gram counting for the text model: the same matrix as scikit-learn, faster.

scikit-learn's ``TfidfVectorizer.transform`` counts n-grams in Python, one text
and one n-gram at a time (about 2,000 activity texts a second here), which made
the text model most of the cost of classifying millions of activities.
:class:`NgramCounter` produces the *same* count matrices for the two vectorisers
of :class:`~wholejob.textmodel.TextPracticeClassifier`, so the fitted TF-IDF
weighting and SVM apply unchanged and predictions are identical:

- word 1-2-grams: texts are lower-cased and split into word-character runs by
  Arrow compute kernels; unigrams and adjacent pairs are looked up in the
  vocabulary with ``pyarrow.compute.index_in`` (a hash lookup in C++);
- character 2-5-grams within word boundaries (``char_wb``): these depend only on
  the word, so each *distinct* word's n-gram counts are computed once (in
  Python, memoised) and a text's counts are its word-count row times that
  word-by-n-gram matrix, a sparse product in C.

The fast path covers texts of printable ASCII, tabs and line breaks, where
Arrow's lower-casing, splitting and word characters agree with Python's.
Anything else (accents, other scripts, rare control characters) goes through
scikit-learn itself, so the result is exact for every text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse import _sparsetools
from sklearn.feature_extraction.text import CountVectorizer

__all__ = ["NgramCounter"]

# Texts outside this set take scikit-learn's own path: non-ASCII (Unicode case
# and word characters) and the ASCII separators Python's str.split() treats as
# whitespace but the fast splitter does not.
_SLOW = r"[^\x00-\x7f]|[\x0b\x0c\x1c-\x1f]"
_NON_WORD = r"[^0-9a-z_]+"
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _flat_nonempty(lists: pa.ListArray) -> tuple[pa.Array, IntArray]:
    """Return a list array's non-empty strings and the row each came from."""
    flat = pc.list_flatten(lists)
    parent = pc.list_parent_indices(lists)
    keep = pc.not_equal(flat, "")
    return flat.filter(keep), parent.filter(keep).to_numpy().astype(np.int64)


def _counts(rows: IntArray, cols: IntArray, shape: tuple[int, int], dtype: Any) -> sp.csr_matrix:
    """Return a count matrix in canonical CSR form (duplicates summed, indices sorted)."""
    m = sp.csr_matrix((np.ones(len(rows), dtype=dtype), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    return m


def _hstack(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Return ``scipy.sparse.hstack([a, b]).tocsr()`` for sorted CSR ``a``, ``b``, cheaply."""
    n = a.shape[0]
    la, lb = np.diff(a.indptr), np.diff(b.indptr)
    indptr = a.indptr.astype(np.int64) + b.indptr.astype(np.int64)
    # Each row holds a's entries, then b's (column indices shifted past a's columns).
    pos_a = np.arange(a.nnz, dtype=np.int64) + np.repeat(b.indptr[:-1].astype(np.int64), la)
    pos_b = np.arange(b.nnz, dtype=np.int64) + np.repeat(a.indptr[1:].astype(np.int64), lb)
    data = np.empty(a.nnz + b.nnz, dtype=np.result_type(a.dtype, b.dtype))
    indices = np.empty(a.nnz + b.nnz, dtype=np.int64)
    data[pos_a], data[pos_b] = a.data, b.data
    indices[pos_a], indices[pos_b] = a.indices, b.indices.astype(np.int64) + a.shape[1]
    return sp.csr_matrix((data, indices, indptr), shape=(n, a.shape[1] + b.shape[1]))


def _coef_t(coef: FloatArray) -> FloatArray:
    """Return ``coef.T`` as one C-ordered float64 array (features by classes)."""
    return np.ascontiguousarray(np.asarray(coef, dtype=np.float64).T)


class NgramCounter:
    """Count matrices of a fitted word + ``char_wb`` TF-IDF pair, as scikit-learn makes them.

    ``word`` and ``char`` are the fitted ``TfidfVectorizer`` objects; ``head``
    is the char vectoriser's preprocessor (lower-case, first characters).
    :meth:`tfidf` returns the hstacked TF-IDF matrix and each text's count of
    distinct known character n-grams and of character n-grams in all (for
    :meth:`~wholejob.textmodel.TextPracticeClassifier.known_share`).
    """

    def __init__(self, word: Any, char: Any, head_chars: int | None,
                 char_range: tuple[int, int]) -> None:
        self.word, self.char = word, char
        self.head_chars = head_chars
        self.lo, self.hi = char_range
        vocab = word.vocabulary_
        terms = sorted(vocab, key=vocab.__getitem__)
        self._word_terms = pa.array(terms, pa.string())
        self._char_vocab: dict[str, int] = char.vocabulary_
        self._n_word, self._n_char = len(vocab), len(self._char_vocab)
        self._dtype = word.dtype
        # Distinct word -> (char n-gram columns, n-gram total), memoised across calls.
        self._word_grams: dict[str, tuple[list[int], int]] = {}
        # The last linear model's coefficients and their transpose, as scores() uses them.
        self._coef: tuple[FloatArray, FloatArray] | None = None

    # -- one distinct word ------------------------------------------------------------

    def _grams_of(self, w: str) -> tuple[list[int], int]:
        got = self._word_grams.get(w)
        if got is not None:
            return got
        padded = f" {w} "
        n_len = len(padded)
        cols: list[int] = []
        vocab = self._char_vocab
        for n in range(self.lo, self.hi + 1):
            # As scikit-learn's _char_wb_ngrams: a word no longer than n counts once.
            for off in range(max(n_len - n + 1, 1)):
                j = vocab.get(padded[off:off + n])
                if j is not None:
                    cols.append(j)
            if n_len <= n:
                break
        total = sum(max(len(w) + 2 - n + 1, 1) for n in range(self.lo, self.hi + 1))
        got = (cols, total)
        if len(self._word_grams) < 2_000_000:
            self._word_grams[w] = got
        return got

    # -- the fast path ----------------------------------------------------------------

    def _word_counts(self, texts: pa.Array) -> sp.csr_matrix:
        tokens, parent = _flat_nonempty(pc.split_pattern_regex(pc.ascii_lower(texts), _NON_WORD))
        n = len(texts)
        uni = pc.index_in(tokens, value_set=self._word_terms)
        same = parent[1:] == parent[:-1]
        pairs = pc.binary_join_element_wise(tokens[:-1], tokens[1:], " ") if len(tokens) > 1 \
            else pa.array([], pa.string())
        bi = pc.index_in(pairs.filter(pa.array(same)), value_set=self._word_terms) \
            if len(tokens) > 1 else pa.array([], pa.int32())
        rows = np.concatenate([parent, parent[:-1][same] if len(parent) else parent])
        cols = np.concatenate([uni.to_numpy(zero_copy_only=False),
                               bi.to_numpy(zero_copy_only=False)])
        known = ~np.isnan(cols)
        return _counts(rows[known], cols[known].astype(np.int64), (n, self._n_word),
                       self._dtype)

    def _char_counts(self, texts: pa.Array) -> tuple[sp.csr_matrix, FloatArray]:
        n = len(texts)
        heads = pc.ascii_lower(texts if self.head_chars is None
                               else pc.utf8_slice_codeunits(texts, 0, self.head_chars))
        words, parent = _flat_nonempty(pc.ascii_split_whitespace(heads))
        enc = pc.dictionary_encode(words)
        distinct = enc.dictionary.to_pylist()
        grams = [self._grams_of(w) for w in distinct]
        lens = np.fromiter((len(g[0]) for g in grams), np.int64, len(grams))
        indptr = np.zeros(len(grams) + 1, np.int64)
        np.cumsum(lens, out=indptr[1:])
        cols = np.fromiter((j for g in grams for j in g[0]), np.int64, int(indptr[-1]))
        per_word = sp.csr_matrix((np.ones(len(cols), self._dtype), cols, indptr),
                                 shape=(len(grams), self._n_char))
        occ = _counts(parent, enc.indices.to_numpy().astype(np.int64), (n, len(grams)),
                      self._dtype)
        # occ @ per_word, computed as its transpose (n-grams by texts) and turned
        # back: the product is cheaper in that orientation, and scipy's CSR to CSC
        # conversion writes each text's n-grams in column order, so no row is sorted.
        by_gram = (per_word.T.tocsr() @ occ.T.tocsr()).tocsc()
        counts = sp.csr_matrix((by_gram.data, by_gram.indices, by_gram.indptr),
                               shape=(n, self._n_char))
        totals = np.fromiter((g[1] for g in grams), np.float64, len(grams))
        total: FloatArray = np.asarray(occ @ totals, dtype=np.float64)
        return counts, total

    # -- public -----------------------------------------------------------------------

    def blocks(self, texts: Sequence[str] | pa.Array) -> tuple[sp.csr_matrix, sp.csr_matrix,
                                                               FloatArray, FloatArray]:
        """Return the word and char TF-IDF blocks, known and total character n-grams."""
        arr = texts if isinstance(texts, pa.Array) else pa.array(list(texts), pa.string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = pc.fill_null(arr, "")
        slow = pc.match_substring_regex(arr, _SLOW).to_numpy(zero_copy_only=False)
        fast_idx = np.flatnonzero(~slow)
        slow_idx = np.flatnonzero(slow)
        fast = arr.take(pa.array(fast_idx))
        wc = self._word_counts(fast)
        cc, total = self._char_counts(fast)
        if len(slow_idx):
            slow_texts = arr.take(pa.array(slow_idx)).to_pylist()
            # CountVectorizer.transform: the counts, before the TF-IDF weighting.
            wc = sp.vstack([wc, CountVectorizer.transform(self.word, slow_texts)])
            cc = sp.vstack([cc, CountVectorizer.transform(self.char, slow_texts)])
            total = np.concatenate([total, self._python_totals(slow_texts)])
            order = np.argsort(np.concatenate([fast_idx, slow_idx]), kind="stable")
            wc, cc, total = wc.tocsr()[order], cc.tocsr()[order], total[order]
            for m in (wc, cc):
                m.sort_indices()
        wc = sp.csr_matrix(wc, dtype=self._dtype)
        cc = sp.csr_matrix(cc, dtype=self._dtype)
        known = np.diff(cc.indptr).astype(np.float64)
        return (self.word._tfidf.transform(wc, copy=False),
                self.char._tfidf.transform(cc, copy=False), known, total)

    def tfidf(self, texts: Sequence[str] | pa.Array) -> tuple[sp.csr_matrix, FloatArray,
                                                              FloatArray]:
        """Return the TF-IDF matrix (word block, then char block), known and total n-grams."""
        word, char, known, total = self.blocks(texts)
        return _hstack(word, char), known, total

    def scores(self, texts: Sequence[str] | pa.Array, coef: FloatArray,
               intercept: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return a linear model's scores on :meth:`tfidf`, known and total n-grams.

        ``coef`` and ``intercept`` are a fitted linear model's (classes by
        features). The scores are bit-identical to
        ``estimator.decision_function(tfidf(texts)[0])`` without building the
        stacked matrix: scipy's product adds each row's terms in order into a
        zeroed result, so adding the word block's terms and then the char block's
        into the same result is the same sum, in the same order.
        """
        word, char, known, total = self.blocks(texts)
        n_word = word.shape[1]
        if self._coef is None or self._coef[0] is not coef:
            self._coef = (coef, _coef_t(coef))
        w = self._coef[1]
        y = np.zeros((word.shape[0], w.shape[1]), dtype=np.float64)
        for block, part in ((word, w[:n_word]), (char, w[n_word:])):
            _sparsetools.csr_matvecs(block.shape[0], block.shape[1], part.shape[1],
                                     block.indptr, block.indices,
                                     block.data.astype(np.float64), part.ravel(), y.ravel())
        scores: FloatArray = y + intercept
        return scores, known, total

    def _python_totals(self, texts: list[str]) -> FloatArray:
        head = self.char.preprocessor
        return np.array([
            sum(max(len(w) + 2 - n + 1, 1) for w in head(t).split()
                for n in range(self.lo, self.hi + 1))
            for t in texts
        ], dtype=np.float64)
