"""Compiled scoring of ASCII texts for the text model: n-grams to SVM scores in one pass.

:func:`score_batch` reads a batch of texts straight from an Arrow string
array's buffers and, per text, does what scikit-learn's two ``TfidfVectorizer``
objects and ``LinearSVC.decision_function`` do, without building a matrix:

- word n-grams: runs of ``[0-9A-Za-z_]`` (the token pattern ``\\b\\w+\\b`` on
  ASCII), lower-cased, joined by one space, looked up in the word vocabulary;
  counts are summed per column in a dense scratch array, the touched columns
  come out of a two-level bitmap in column order, and the TF-IDF values
  (``1 + log(count)`` times idf, l2-normalised) and their score terms are
  computed in that order with scikit-learn's float32 and float64 arithmetic:
  this block is bit for bit scipy's sparse product;
- character n-grams within word boundaries (``char_wb``) of the text's first
  ``head`` characters, lower-cased and split at whitespace: each distinct word
  of the batch is looked up once (a hash table of the batch's words), and its
  n-grams' idf-weighted coefficient rows and squared idf are summed once. A
  text's char block is the sum of its words' sums, corrected for the n-grams it
  holds more than once (weighed ``1 + log c``, not ``c``), divided by the l2
  norm. Most coefficient rows are then read once per batch instead of once per
  text; the price is that the float32 rounding of each TF-IDF value, which
  scikit-learn applies, is skipped, so scores differ from scikit-learn's by
  about 1e-7 (on 1.2 M distinct texts: no class changed, confidences within 6e-8).

Vocabularies are open-addressing hash tables (FNV-1a over the term's UTF-8
bytes, linear probing, each hit confirmed byte by byte) built once per model.
A text with a byte outside printable ASCII, tab and line breaks (non-ASCII, or
the separators ``\\x0b \\x0c \\x1c-\\x1f`` that Python's ``str.split`` treats as
whitespace) is only flagged: the caller scores it through scikit-learn.

The functions are compiled by numba on first use in each process (a few
seconds); where numba can keep a cache (``__pycache__`` beside this module, or
its user-wide or ``NUMBA_CACHE_DIR`` directory) later processes load the
machine code instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["VocabTable", "score_batch", "vocab_table"]

_OFFSET = np.uint64(14695981039346656037)
_PRIME = np.uint64(1099511628211)
_SHIFT = np.uint64(29)
_SPACE = np.uint8(32)
_ONE = np.uint64(1)
_EMPTY = np.uint64(2**64 - 1)
_58 = np.uint64(58)
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT = np.array([1 << i for i in range(64)], np.uint64)
_DEBRUIJN_BITS = np.zeros(64, np.int64)
for _i in range(64):
    _DEBRUIJN_BITS[((1 << _i) * int(_DEBRUIJN) % 2**64) >> 58] = _i

F = TypeVar("F", bound=Callable[..., Any])
VocabTable = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint64]]


def _compiled(func: F, inline: bool) -> F:
    opts: dict[str, Any] = {"nogil": True, "inline": "always" if inline else "never"}
    try:
        return cast(F, numba.njit(cache=True, **opts)(func))
    except RuntimeError:  # no writable cache location: compile in each process
        return cast(F, numba.njit(**opts)(func))


def _jit(func: F) -> F:
    """Compile ``func`` with numba, caching the code on disk where a cache can be kept."""
    return _compiled(func, inline=False)


def _inline(func: F) -> F:
    """As :func:`_jit`, for a helper numba inlines into its callers.

    A call (even inlined) still counts references to each array it is handed, so
    hot loops spell their array work out instead of calling helpers with arrays.
    """
    return _compiled(func, inline=True)


@_inline
def _hash(key: Any, start: int, n: int) -> Any:
    h = _OFFSET
    for i in range(start, start + n):
        h = (h ^ np.uint64(key[i])) * _PRIME
    return h


@_inline
def _slot(h: Any, mask: int) -> Any:
    return np.int64((h ^ (h >> _SHIFT)) & np.uint64(mask))


@_jit
def _build(buf: Any, off: Any) -> Any:
    n = len(off) - 1
    size = 16
    while 3 * size < 4 * n:  # at most 3/4 full
        size *= 2
    size *= 2
    tab = np.zeros((size, 4), np.uint64)
    tab[:, 1] = _EMPTY
    mask = size - 1
    for t in range(n):
        h = _hash(buf, off[t], off[t + 1] - off[t])
        s = _slot(h, mask)
        while tab[s, 1] != _EMPTY:
            s = (s + 1) & mask
        tab[s, 0], tab[s, 1] = h, np.uint64(t)
        tab[s, 2], tab[s, 3] = np.uint64(off[t]), np.uint64(off[t + 1] - off[t])
    return tab


def vocab_table(terms: list[str]) -> VocabTable:
    """Return the hash table of ``terms`` (the term at position ``j`` is column ``j``).

    The terms' UTF-8 bytes, and one row of 4 words per slot: hash, column,
    start and length of the term's bytes (column ``2**64 - 1``: empty), so a
    probe reads one cache line and a hit one more.
    """
    encoded = [t.encode("utf-8") for t in terms]
    off = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=off[1:])
    buf = np.frombuffer(b"".join(encoded), np.uint8).copy()
    if not len(buf):
        buf = np.zeros(1, np.uint8)
    return buf, _build(buf, off)


@_inline
def _probe(key: Any, ks: int, n: int, h: Any, buf: Any, tab: Any) -> Any:
    """Return the column of ``key[ks:ks + n]`` (hash ``h``) in a vocabulary table, or -1."""
    mask = len(tab) - 1
    s = _slot(h, mask)
    un = np.uint64(n)
    while True:
        if tab[s, 1] == _EMPTY:
            return -1
        if tab[s, 0] == h and tab[s, 3] == un:
            start = np.int64(tab[s, 2])
            same = True
            for i in range(n):
                if buf[start + i] != key[ks + i]:
                    same = False
                    break
            if same:
                return np.int64(tab[s, 1])
        s = (s + 1) & mask


@_inline
def _find(key: Any, ks: int, n: int, buf: Any, tab: Any) -> Any:
    """Return the column of ``key[ks:ks + n]`` in a vocabulary table, or -1."""
    return _probe(key, ks, n, _hash(key, ks, n), buf, tab)


@_inline
def _lower(b: Any) -> Any:
    return b + np.uint8(32) if np.uint8(65) <= b <= np.uint8(90) else b


@_inline
def _is_word(b: Any) -> Any:
    return ((np.uint8(48) <= b <= np.uint8(57)) or (np.uint8(65) <= b <= np.uint8(90))
            or (np.uint8(97) <= b <= np.uint8(122)) or b == np.uint8(95))


@_inline
def _is_space(b: Any) -> Any:
    return b == np.uint8(32) or (np.uint8(9) <= b <= np.uint8(13)) or (
        np.uint8(28) <= b <= np.uint8(31))


@_inline
def _next_word(data: Any, p: int, end: int) -> Any:
    """The next run of non-space bytes at or after ``p``, before ``end``: (start, stop).

    ``start`` is ``end`` when there is none.
    """
    while p < end and _is_space(data[p]):
        p += 1
    q = p
    while q < end and not _is_space(data[q]):
        q += 1
    return p, q


@_inline
def _is_slow(b: Any) -> Any:
    return b >= np.uint8(128) or b == np.uint8(11) or b == np.uint8(12) or (
        np.uint8(28) <= b <= np.uint8(31))


@_jit
def _word_grams(data: Any, s: int, e: int, lo: int, hi: int, key: Any,
                cbuf: Any, ctab: Any, pool: Any, used: int) -> int:
    """Append the char_wb n-gram columns of ``data[s:e]`` to ``pool``; return the new end."""
    length = e - s + 2
    key[0] = _SPACE
    for i in range(s, e):
        key[i - s + 1] = _lower(data[i])
    key[length - 1] = _SPACE
    for n in range(lo, hi + 1):
        # As scikit-learn's _char_wb_ngrams: a word no longer than n counts once.
        for o in range(max(length - n + 1, 1)):
            j = _find(key, o, min(n, length - o), cbuf, ctab)
            if j >= 0:
                pool[used] = j
                used += 1
        if length <= n:
            break
    return used


@_inline
def _low_bit(x: Any) -> Any:
    """Return the index of the lowest set bit of a non-zero uint64."""
    return _DEBRUIJN_BITS[((x & (~x + _ONE)) * _DEBRUIJN) >> _58]


@_inline
def _weigh(m: int, counts: Any, bits: Any, summary: Any, idf: Any, logt: Any,
           cols: Any, vals: Any, coef: Any, rows: Any, base: int) -> float:
    """Put the ``m`` touched columns in order in ``cols`` and their TF-IDF values in ``vals``.

    The columns come out of the two-level bitmap in increasing order (as in a
    sorted CSR row); the values are ``(1 + log count) * idf``, l2-normalised, in
    scikit-learn's float32 and float64 arithmetic. Counts and bitmap are reset.
    """
    t = 0
    for sw in range(len(summary)):
        top = summary[sw]
        summary[sw] = 0
        while top:
            low = top & (~top + _ONE)
            top ^= low
            wi = sw * 64 + np.int64(_low_bit(low))
            word = bits[wi]
            bits[wi] = 0
            while word:
                lowb = word & (~word + _ONE)
                word ^= lowb
                cols[t] = wi * 64 + np.int64(_low_bit(lowb))
                t += 1
    ss = 0.0
    early = 0.0
    for t in range(m):
        j = cols[t]
        # Read the coefficient row now, independently of everything else, so its
        # cache lines are on their way before _score needs them.
        r = rows[base + j]
        for q in range(0, coef.shape[1], 8):
            early += coef[r, q]
        v = logt[counts[j] - 1] * idf[j]
        counts[j] = 0
        vals[t] = v
        ss += np.float64(v * v)
    if ss != 0.0:
        norm = np.sqrt(ss)
        for t in range(m):
            vals[t] = np.float32(np.float64(vals[t]) / norm)
    return early


@_inline
def _score(y: Any, i: int, m: int, cols: Any, vals: Any, coef: Any, rows: Any,
           base: int) -> None:
    """Add the ``m`` weighted columns' coefficients to row ``i`` of the scores, in order.

    Column ``j``'s coefficients are row ``rows[base + j]`` of ``coef``
    (features by classes).
    """
    k = coef.shape[1]
    for t in range(m):
        x = np.float64(vals[t])
        r = rows[base + cols[t]]
        for q in range(k):
            y[i, q] += x * coef[r, q]


@_jit
def _word_sums(e: int, pool: Any, start: int, stop: int, idf: Any, coef: Any, rows: Any,
               base: int, sums: Any, squares: Any) -> None:
    """Store word ``e``'s sums of idf times coefficients and of squared idf over its n-grams."""
    k = coef.shape[1]
    for q in range(k):
        sums[e * k + q] = 0.0
    sq = 0.0
    for t in range(start, stop):
        j = pool[t]
        w = idf[j]
        sq += np.float64(w * w)
        x = np.float64(w)
        r = rows[base + j]
        for q in range(k):
            sums[e * k + q] += x * coef[r, q]
    squares[e] = sq


@_jit
def score_batch(data: Any, offsets: Any, head: int, word_range: Any, char_range: Any,
                wbuf: Any, wtab: Any, cbuf: Any, ctab: Any,
                widf: Any, cidf: Any, logt: Any, coef: Any, rows: Any) -> Any:
    """Return the SVM scores (before the intercept), known and total char n-grams, slow flags.

    ``data`` and ``offsets`` are a string array's bytes and ``n + 1`` offsets;
    ``head`` the characters read for char n-grams (negative: all); ``w*`` and
    ``c*`` the word and char :func:`vocab_table` parts; ``widf``/``cidf`` the
    float32 idf vectors; ``logt[c - 1]`` is float32 ``1 + log(c)`` as NumPy
    computes it; ``coef`` the float64 coefficients, one row per feature (classes
    along the row, possibly zero-padded), feature ``f`` (word columns first, then
    char columns) in row ``rows[f]``. Rows of slow texts are left zero.
    """
    n = len(offsets) - 1
    k = coef.shape[1]
    n_word = len(widf)
    wlo, whi = word_range[0], word_range[1]
    clo, chi = char_range[0], char_range[1]
    y = np.zeros((n, k), np.float64)
    known = np.zeros(n, np.float64)
    total = np.zeros(n, np.float64)
    slow = np.zeros(n, np.bool_)
    wmask = len(wtab) - 1
    longest = 1
    for i in range(n):
        longest = max(longest, offsets[i + 1] - offsets[i])
    key = np.empty(longest + 8, np.uint8)
    tok_s = np.empty(longest + 1, np.int64)
    tok_e = np.empty(longest + 1, np.int64)
    wcount = np.zeros(n_word, np.int32)
    ccount = np.zeros(len(cidf), np.int32)
    width = max(n_word, len(cidf)) + 1
    bits = np.zeros((width + 63) // 64, np.uint64)
    summary = np.zeros((width + 4095) // 4096, np.uint64)
    cols = np.empty(width, np.int64)
    vals = np.empty(width, np.float32)
    # The batch's distinct head words (hash table -> entry; entry -> its n-gram
    # columns), sized for the worst case up front (pages
    # never written cost nothing): arrays rebound inside the loop would make
    # numba count references on every pass.
    words, grams = 1, 1
    for i in range(n):
        a = offsets[i]
        end = offsets[i + 1] if head < 0 else min(offsets[i + 1], a + head)
        p, q = _next_word(data, a, end)
        while p < end:
            words += 1
            grams += (chi - clo + 1) * (q - p + 2)
            p, q = _next_word(data, q, end)
    msize = 16
    while msize < 2 * words:
        msize *= 2
    mslots = np.full(msize, -1, np.int32)
    m_hash = np.empty(words, np.uint64)
    m_s = np.empty(words, np.int64)
    m_e = np.empty(words, np.int64)
    m_at = np.empty(words + 1, np.int64)
    m_at[0] = 0
    # Each distinct word's char block sums: its n-grams' idf times coefficients
    # (k per word) and squared idf, each n-gram counted once per occurrence.
    m_sum = np.empty(words * k, np.float64)
    m_sq = np.empty(words, np.float64)
    acc = np.zeros(k, np.float64)
    entries = 0
    pool = np.empty(grams, np.int32)
    used = 0
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        bad = False
        for p in range(a, b):
            if _is_slow(data[p]):
                bad = True
                break
        if bad:
            slow[i] = True
            continue
        # -- word n-grams
        nt = 0
        p = a
        while p < b:
            if _is_word(data[p]):
                q = p
                while q < b and _is_word(data[q]):
                    q += 1
                tok_s[nt], tok_e[nt] = p, q
                nt += 1
                p = q
            else:
                p += 1
        m = 0
        for g in range(wlo, whi + 1):
            for t0 in range(nt - g + 1):
                # The n-gram's lower-cased bytes, joined by spaces, and their hash.
                ln = 0
                h = _OFFSET
                for t in range(t0, t0 + g):
                    if t > t0:
                        key[ln] = _SPACE
                        h = (h ^ np.uint64(32)) * _PRIME
                        ln += 1
                    for r in range(tok_s[t], tok_e[t]):
                        c = _lower(data[r])
                        key[ln] = c
                        h = (h ^ np.uint64(c)) * _PRIME
                        ln += 1
                # _probe, written out: numba counts references to a callee's arrays.
                s = _slot(h, wmask)
                j = np.int64(-1)
                uln = np.uint64(ln)
                while wtab[s, 1] != _EMPTY:
                    if wtab[s, 0] == h and wtab[s, 3] == uln:
                        start = np.int64(wtab[s, 2])
                        same = True
                        for r in range(ln):
                            if wbuf[start + r] != key[r]:
                                same = False
                                break
                        if same:
                            j = np.int64(wtab[s, 1])
                            break
                    s = (s + 1) & wmask
                if j >= 0:
                    wcount[j] += 1
                    if wcount[j] == 1:
                        bits[j >> 6] |= _BIT[j & 63]
                        summary[j >> 12] |= _BIT[(j >> 6) & 63]
                        m += 1
        early = _weigh(m, wcount, bits, summary, widf, logt, cols, vals, coef, rows, 0)
        _score(y, i, m, cols, vals, coef, rows, 0)
        # -- char_wb n-grams of the head's words
        end = b if head < 0 else min(b, a + head)
        m = 0
        tot = 0
        ss = 0.0
        for z in range(k):
            acc[z] = 0.0
        p, q = _next_word(data, a, end)
        while p < end:
            length = q - p
            for g in range(clo, chi + 1):
                tot += max(length + 2 - g + 1, 1)
            h = _OFFSET
            for r in range(p, q):
                h = (h ^ np.uint64(_lower(data[r]))) * _PRIME
            mask = msize - 1
            s = _slot(h, mask)
            e = -1
            while True:
                t = mslots[s]
                if t < 0:
                    break
                if m_hash[t] == h and m_e[t] - m_s[t] == length:
                    same = True
                    for r in range(length):
                        if _lower(data[m_s[t] + r]) != _lower(data[p + r]):
                            same = False
                            break
                    if same:
                        e = t
                        break
                s = (s + 1) & mask
            if e < 0:
                e = entries
                m_hash[e], m_s[e], m_e[e] = h, p, q
                used = _word_grams(data, p, q, clo, chi, key, cbuf, ctab, pool, used)
                m_at[e + 1] = used
                _word_sums(e, pool, m_at[e], used, cidf, coef, rows, n_word, m_sum, m_sq)
                entries += 1
                mslots[s] = e
            for z in range(k):
                acc[z] += m_sum[e * k + z]
            ss += m_sq[e]
            for r in range(m_at[e], m_at[e + 1]):
                j = pool[r]
                if ccount[j] == 0:
                    cols[m] = j
                    m += 1
                ccount[j] += 1
            p, q = _next_word(data, q, end)
        # An n-gram counted c > 1 times weighs (1 + log c) * idf, not c * idf.
        for t in range(m):
            j = cols[t]
            c = ccount[j]
            ccount[j] = 0
            if c > 1:
                idf = cidf[j]
                v = logt[c - 1] * idf
                ss += np.float64(v * v) - c * np.float64(idf * idf)
                f = np.float64(v) - c * np.float64(idf)
                r = rows[n_word + j]
                for q in range(k):
                    acc[q] += f * coef[r, q]
        if m:
            norm = np.sqrt(ss)
            for q in range(k):
                y[i, q] += acc[q] / norm
        known[i] = m + early * 0.0  # keeps the early reads (finite: adds nothing)
        total[i] = tot
    return y, known, total, slow
