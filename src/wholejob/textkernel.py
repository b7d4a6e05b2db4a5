"""Compiled scoring of ASCII texts for the text model: n-grams to SVM scores in one pass.

:func:`score_batch` reads a batch of texts straight from an Arrow string
array's buffers and, per text, does what scikit-learn's two ``TfidfVectorizer``
objects and ``LinearSVC.decision_function`` do, without building a matrix:

- word n-grams: runs of ``[0-9A-Za-z_]`` (the token pattern ``\\b\\w+\\b`` on
  ASCII), lower-cased, joined by one space, looked up in the word vocabulary;
- character n-grams within word boundaries (``char_wb``) of the text's first
  ``head`` characters, lower-cased and split at whitespace: each distinct word
  of the batch is looked up once (a hash table of the batch's words) and its
  n-gram columns are reused for every other occurrence;
- counts are summed per column in a dense scratch array with a list of the
  columns touched, the columns are sorted, and the TF-IDF weights (``1 +
  log(count)`` times idf, then the row's l2 norm), the known n-gram count and the
  scores are computed in column order with scikit-learn's float32 and float64
  arithmetic, so the scores are bit for bit scipy's sparse product.

Vocabularies are open-addressing hash tables (FNV-1a over the term's UTF-8
bytes, linear probing, each hit confirmed byte by byte) built once per model.
A text with a byte outside printable ASCII, tab and line breaks (non-ASCII, or
the separators ``\\x0b \\x0c \\x1c-\\x1f`` that Python's ``str.split`` treats as
whitespace) is only flagged: the caller scores it through scikit-learn.

The functions are compiled by numba on first use in each process; with a
writable cache directory the machine code is kept on disk (``cache=True``) and
later processes load it instead of compiling.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["VocabTable", "score_batch", "vocab_table"]

_OFFSET = np.uint64(14695981039346656037)
_PRIME = np.uint64(1099511628211)
_SHIFT = np.uint64(29)
_SPACE = np.uint8(32)
_ONE = np.uint64(1)
_58 = np.uint64(58)
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT = np.array([1 << i for i in range(64)], np.uint64)
_DEBRUIJN_BITS = np.zeros(64, np.int64)
for _i in range(64):
    _DEBRUIJN_BITS[((1 << _i) * int(_DEBRUIJN) % 2**64) >> 58] = _i

VocabTable = tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint64],
                   npt.NDArray[np.int32]]


def _jit(func: Any = None, *, inline: bool = False) -> Any:
    """Compile ``func`` with numba, caching the code on disk where a cache can be kept.

    ``inline`` helpers are inlined into their callers by numba itself, so the
    arrays they are handed are not reference-counted on every call.
    """
    if func is None:
        return lambda f: _jit(f, inline=inline)
    opts: dict[str, Any] = {"nogil": True, "inline": "always" if inline else "never"}
    try:
        return numba.njit(cache=True, **opts)(func)
    except RuntimeError:  # no writable cache location: compile in each process
        return numba.njit(**opts)(func)


@_jit(inline=True)
def _hash(key: Any, start: int, n: int) -> Any:
    h = _OFFSET
    for i in range(start, start + n):
        h = (h ^ np.uint64(key[i])) * _PRIME
    return h


@_jit(inline=True)
def _slot(h: Any, mask: int) -> int:
    return np.int64((h ^ (h >> _SHIFT)) & np.uint64(mask))


@_jit
def _build(buf: Any, off: Any) -> Any:
    n = len(off) - 1
    size = 16
    while size < 2 * n:
        size *= 2
    slots = np.full(size, -1, np.int32)
    hashes = np.empty(n, np.uint64)
    mask = size - 1
    for t in range(n):
        h = _hash(buf, off[t], off[t + 1] - off[t])
        hashes[t] = h
        s = _slot(h, mask)
        while slots[s] >= 0:
            s = (s + 1) & mask
        slots[s] = t
    return slots, hashes


def vocab_table(terms: list[str]) -> VocabTable:
    """Return the hash table of ``terms`` (the term at position ``j`` is column ``j``)."""
    encoded = [t.encode("utf-8") for t in terms]
    off = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=off[1:])
    buf = np.frombuffer(b"".join(encoded), np.uint8).copy()
    if not len(buf):
        buf = np.zeros(1, np.uint8)
    slots, hashes = _build(buf, off)
    return buf, off, hashes, slots


@_jit(inline=True)
def _find(key: Any, ks: int, n: int, buf: Any, off: Any, hashes: Any, slots: Any) -> int:
    """Return the column of ``key[ks:ks + n]`` in a vocabulary table, or -1."""
    h = _hash(key, ks, n)
    mask = len(slots) - 1
    s = _slot(h, mask)
    while True:
        t = slots[s]
        if t < 0:
            return -1
        if hashes[t] == h and off[t + 1] - off[t] == n:
            start = off[t]
            same = True
            for i in range(n):
                if buf[start + i] != key[ks + i]:
                    same = False
                    break
            if same:
                return int(t)
        s = (s + 1) & mask


@_jit(inline=True)
def _lower(b: Any) -> Any:
    return b + np.uint8(32) if np.uint8(65) <= b <= np.uint8(90) else b


@_jit(inline=True)
def _is_word(b: Any) -> bool:
    return ((np.uint8(48) <= b <= np.uint8(57)) or (np.uint8(65) <= b <= np.uint8(90))
            or (np.uint8(97) <= b <= np.uint8(122)) or b == np.uint8(95))


@_jit(inline=True)
def _is_space(b: Any) -> bool:
    return b == np.uint8(32) or (np.uint8(9) <= b <= np.uint8(13)) or (
        np.uint8(28) <= b <= np.uint8(31))


@_jit(inline=True)
def _is_slow(b: Any) -> bool:
    return b >= np.uint8(128) or b == np.uint8(11) or b == np.uint8(12) or (
        np.uint8(28) <= b <= np.uint8(31))


@_jit
def _word_grams(data: Any, s: int, e: int, lo: int, hi: int, key: Any,
                cbuf: Any, coff: Any, chash: Any, cslots: Any, pool: Any, used: int) -> Any:
    """Append the char_wb n-gram columns of ``data[s:e]`` to ``pool``; return both, and the end."""
    length = e - s + 2
    key[0] = _SPACE
    for i in range(s, e):
        key[i - s + 1] = _lower(data[i])
    key[length - 1] = _SPACE
    need = used + (hi - lo + 1) * length
    if need > len(pool):
        bigger = np.empty(max(2 * len(pool), need), np.int32)
        bigger[:used] = pool[:used]
        pool = bigger
    for n in range(lo, hi + 1):
        # As scikit-learn's _char_wb_ngrams: a word no longer than n counts once.
        for o in range(max(length - n + 1, 1)):
            j = _find(key, o, min(n, length - o), cbuf, coff, chash, cslots)
            if j >= 0:
                pool[used] = j
                used += 1
        if length <= n:
            break
    return pool, used


@_jit(inline=True)
def _low_bit(x: Any) -> Any:
    """Return the index of the lowest set bit of a non-zero uint64."""
    return _DEBRUIJN_BITS[((x & (~x + _ONE)) * _DEBRUIJN) >> _58]


@_jit(inline=True)
def _touch(j: Any, counts: Any, bits: Any, summary: Any) -> int:
    """Count column ``j`` once more; return 1 if it is new to the text, else 0."""
    counts[j] += 1
    if counts[j] > 1:
        return 0
    bits[j >> 6] |= _BIT[j & 63]  # a table, not a shift: numba checks shift widths
    summary[j >> 12] |= _BIT[(j >> 6) & 63]
    return 1


@_jit(inline=True)
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


@_jit(inline=True)
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
def score_batch(data: Any, offsets: Any, head: int, word_range: Any, char_range: Any,
                wbuf: Any, woff: Any, whash: Any, wslots: Any,
                cbuf: Any, coff: Any, chash: Any, cslots: Any,
                widf: Any, cidf: Any, logt: Any, coef: Any, rows: Any) -> Any:
    """Return the SVM scores (before the intercept), known and total char n-grams, slow flags.

    ``data`` and ``offsets`` are a string array's bytes and ``n + 1`` offsets;
    ``head`` the characters read for char n-grams (negative: all); ``w*`` and
    ``c*`` the word and char :func:`vocab_table` parts; ``widf``/``cidf`` the
    float32 idf vectors; ``logt[c - 1]`` is float32 ``1 + log(c)`` as NumPy
    computes it; ``coef`` the features-by-classes float64 coefficients, word
    columns first. Rows of slow texts are left zero.
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
    # The batch's distinct head words: hash table -> entry; entry -> its n-gram columns.
    msize = 1024
    mslots = np.full(msize, -1, np.int32)
    m_hash = np.empty(512, np.uint64)
    m_s = np.empty(512, np.int64)
    m_e = np.empty(512, np.int64)
    m_at = np.empty(513, np.int64)
    m_at[0] = 0
    entries = 0
    pool = np.empty(4096, np.int32)
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
        wmask = len(wslots) - 1
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
                # Inline, not a call: numba would count references to each array.
                s = _slot(h, wmask)
                j = -1
                while True:
                    t = wslots[s]
                    if t < 0:
                        break
                    if whash[t] == h and woff[t + 1] - woff[t] == ln:
                        start = woff[t]
                        same = True
                        for r in range(ln):
                            if wbuf[start + r] != key[r]:
                                same = False
                                break
                        if same:
                            j = t
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
        p = a
        while p < end:
            if _is_space(data[p]):
                p += 1
                continue
            q = p
            while q < end and not _is_space(data[q]):
                q += 1
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
                if e == len(m_hash):
                    m_hash = np.concatenate((m_hash, np.empty(e, np.uint64)))
                    m_s = np.concatenate((m_s, np.empty(e, np.int64)))
                    m_e = np.concatenate((m_e, np.empty(e, np.int64)))
                    m_at = np.concatenate((m_at, np.empty(e, np.int64)))
                m_hash[e], m_s[e], m_e[e] = h, p, q
                pool, used = _word_grams(data, p, q, clo, chi, key, cbuf, coff, chash,
                                         cslots, pool, used)
                m_at[e + 1] = used
                entries += 1
                mslots[s] = e
                if 2 * entries > msize:
                    msize *= 2
                    mask = msize - 1
                    mslots = np.full(msize, -1, np.int32)
                    for t in range(entries):
                        s = _slot(m_hash[t], mask)
                        while mslots[s] >= 0:
                            s = (s + 1) & mask
                        mslots[s] = t
            for r in range(m_at[e], m_at[e + 1]):
                j = pool[r]
                ccount[j] += 1
                if ccount[j] == 1:
                    bits[j >> 6] |= _BIT[j & 63]
                    summary[j >> 12] |= _BIT[(j >> 6) & 63]
                    m += 1
            p = q
        early += _weigh(m, ccount, bits, summary, cidf, logt, cols, vals, coef, rows, n_word)
        _score(y, i, m, cols, vals, coef, rows, n_word)
        known[i] = m + early * 0.0  # keeps the early reads (finite: adds nothing)
        total[i] = tot
    return y, known, total, slow
