"""Text-model predictions kept per distinct text, so a re-analysis predicts only new texts.

Predicting is the costly part of classifying (about 57,000 texts per CPU-second),
and after an import most of a workspace's texts are ones the model has already
read. :class:`PredictionStore` keeps, per text, the model's answer (class index and
confidence, exactly as computed) in one Parquet file in the workspace's
``cache/`` folder:

- **keyed by the model**: the file is named after the fitted model's cache key
  (training data, parameters, versions) and :data:`PREDICTION_VERSION`, so a new
  model never reads an old model's answers; writing a file removes the other
  models' files;
- **keyed by the text**: the 128-bit MD5 of the text's UTF-8 bytes, computed by
  the engine beside the text (``md5`` in DuckDB and Spark alike, so a Python
  loop never hashes millions of texts); the chance that two of 10 M texts
  collide by accident is about 10^-25. The engine joins the stored answers
  (:meth:`PredictionStore.answers`, keys as the engine's hex digests) to the
  activities, so stored answers never pass through Python per activity;
- **atomic**: written to a temporary file in the same folder and renamed over
  the old one, so a reader (another analysis, the web app) sees the old file or
  the new one, never a partial one; an unreadable file counts as empty;
- **bounded**: at most :data:`MAX_STORED_TEXTS` texts; past that, the answers
  not used by the latest run are dropped first.

A workspace whose folder cannot be written simply has no store.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["CACHE_DIR", "MAX_STORED_TEXTS", "PREDICTION_VERSION", "PredictionStore",
           "answer_table", "hex_keys", "md5_keys", "replace_cache_file", "text_keys"]

log = logging.getLogger(__name__)

# The workspace's folder of derived files (fitted models, stored answers, the
# cached classification): anything in it can be deleted and is computed again.
CACHE_DIR = "cache"

# Raise when what a stored answer means changes without the model changing
# (the known-share cap, the text the model reads) or how texts are keyed
# (2: MD5 from the engine instead of BLAKE2b in Python).
PREDICTION_VERSION = 2
MAX_STORED_TEXTS = 20_000_000
PREFIX = "text-predictions-"

U64 = npt.NDArray[np.uint64]


def replace_cache_file(path: Path, siblings: str, write: Callable[[str], object]) -> bool:
    """Write a cache file atomically and drop the older ``siblings`` (a glob) beside it.

    ``write`` fills a temporary file in the same folder, which then replaces
    ``path``, so readers see the old file or the new one. A folder we cannot
    write to only means nothing is cached: logged, and False returned.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for old in path.parent.glob(siblings):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as e:
        log.info("not caching %s: %s", path, e)
        return False
    return True


# Hex digit (ASCII code) -> its value; anything else is 255 and refused.
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint8)


def md5_keys(hexes: pa.Array | pa.ChunkedArray) -> tuple[U64, U64]:
    """Return 32-digit hex MD5 digests (the engine's ``md5``) as two 64-bit halves each."""
    fixed = hexes.cast(pa.binary(32))  # raises on a digest that is not 32 characters
    if isinstance(fixed, pa.ChunkedArray):
        fixed = fixed.combine_chunks()
    if fixed.null_count:
        raise ValueError("a text key is null")
    n = len(fixed)
    chars = np.frombuffer(fixed.buffers()[1], np.uint8)[fixed.offset * 32:(fixed.offset + n) * 32]
    nibbles = _NIBBLE[chars.reshape(n, 32)]
    if n and nibbles.max() == 255:
        raise ValueError("a text key is not a hexadecimal digest")
    digest = np.ascontiguousarray((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])
    halves = digest.view("<u8").reshape(n, 2)
    return halves[:, 0].copy(), halves[:, 1].copy()


_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def hex_keys(hi: U64, lo: U64) -> pa.Array:
    """Return the lower-case hex digests :func:`md5_keys` read ``hi`` and ``lo`` from."""
    n = len(hi)
    chars = np.empty((n, 32), np.uint8)
    step = 1 << 20  # a million keys at a time: the temporaries stay near 100 MB
    for i in range(0, n, step):
        halves = np.empty((min(step, n - i), 2), "<u8")
        halves[:, 0], halves[:, 1] = hi[i:i + step], lo[i:i + step]
        digest = halves.view(np.uint8).reshape(-1, 16)
        chars[i:i + step, 0::2] = _HEX[digest >> 4]
        chars[i:i + step, 1::2] = _HEX[digest & 15]
    small = 32 * n < 2**31  # 32-bit offsets (the engines' usual strings) while they fit
    offsets = np.arange(0, 32 * n + 1, 32, dtype=np.int32 if small else np.int64)
    return pa.Array.from_buffers(pa.string() if small else pa.large_string(), n,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def answer_table(md5: pa.Array, best: npt.NDArray[np.int16],
                 confidence: npt.NDArray[np.float64]) -> pa.Table:
    """The model's answers as the engine joins them: ``_md5``, ``_best``, ``_confidence``."""
    return pa.table({"_md5": md5 if pa.types.is_string(md5.type) else md5.cast(pa.string()),
                     "_best": pa.array(best, pa.int16()),
                     "_confidence": pa.array(confidence, pa.float64())})


def text_keys(texts: pa.Array) -> tuple[U64, U64]:
    """Return each text's key as :func:`md5_keys` gives it from the engine (null counts as "")."""
    return md5_keys(pa.array([hashlib.md5((t or "").encode("utf-8")).hexdigest()
                              for t in texts.to_pylist()], pa.string()))


class PredictionStore:
    """The stored answers of one fitted model, in ``folder``, under ``model_key``.

    At most ``max_texts`` answers are kept. :meth:`answers` gives them all for
    the engine to join; :meth:`lookup` finds given keys' answers (and marks them
    used, so a full store drops others first); :meth:`add` records new ones;
    :meth:`save` writes the file once the run is over (only if something was
    added).
    """

    def __init__(self, folder: Path, model_key: str, *,
                 max_texts: int = MAX_STORED_TEXTS) -> None:
        self.folder = folder
        self.max_texts = max_texts
        self.path = folder / f"{PREFIX}{model_key}-v{PREDICTION_VERSION}.parquet"
        hi, lo, best, conf = self._read()
        if not (hi[1:] >= hi[:-1]).all():
            order = np.lexsort((lo, hi))  # files are written sorted; this is a fallback
            hi, lo, best, conf = hi[order], lo[order], best[order], conf[order]
        self._hi, self._lo, self._best, self._conf = hi, lo, best, conf
        self._used = np.zeros(len(hi), dtype=bool)
        self._new: list[tuple[U64, U64, npt.NDArray[np.int16], npt.NDArray[np.float64]]] = []

    def _read(self) -> tuple[U64, U64, npt.NDArray[np.int16], npt.NDArray[np.float64]]:
        empty = (np.empty(0, np.uint64), np.empty(0, np.uint64), np.empty(0, np.int16),
                 np.empty(0, np.float64))
        if not self.path.is_file():
            return empty
        try:
            t = pq.read_table(self.path)
            cols = [t.column(c).to_numpy() for c in ("hi", "lo", "best", "confidence")]
            return (cols[0].astype(np.uint64), cols[1].astype(np.uint64),
                    cols[2].astype(np.int16), cols[3].astype(np.float64))
        except (OSError, KeyError, ValueError, pa.ArrowException) as e:
            log.info("ignoring unreadable prediction store %s: %s", self.path, e)
            return empty

    def __len__(self) -> int:
        return len(self._hi)

    def answers(self) -> pa.Table:
        """Return the stored answers as :func:`answer_table` gives them."""
        return answer_table(hex_keys(self._hi, self._lo), self._best, self._conf)

    def full_after(self, n_new: int) -> bool:
        """Whether adding ``n_new`` answers would pass ``max_texts``."""
        return len(self._hi) + n_new > self.max_texts

    def lookup(self, hi: U64, lo: U64) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int16],
                                                npt.NDArray[np.float64]]:
        """Return which keys are stored and, for those, the class index and confidence."""
        # Sorted queries walk the sorted keys mostly forwards: a third of the time
        # of random ones against millions of stored keys.
        order = np.argsort(hi, kind="stable")
        pos = np.empty(len(hi), dtype=np.int64)
        pos[order] = np.searchsorted(self._hi, hi[order], side="left")
        found = np.zeros(len(hi), dtype=bool)
        at = np.zeros(len(hi), dtype=np.int64)
        # Several stored keys may share the high half; walk them (almost never more than one).
        cand = pos.copy()
        while True:
            live = (cand < len(self._hi)) & ~found
            live[live] &= self._hi[cand[live]] == hi[live]
            if not live.any():
                break
            match = live.copy()
            match[live] = self._lo[cand[live]] == lo[live]
            found |= match
            at[match] = cand[match]
            cand[live & ~match] += 1
        idx = at[found]
        self._used[idx] = True
        return found, self._best[idx], self._conf[idx]

    def add(self, hi: U64, lo: U64, best: npt.NDArray[np.int16],
            conf: npt.NDArray[np.float64]) -> None:
        """Record the answers for texts not yet stored."""
        self._new.append((hi, lo, best.astype(np.int16), conf.astype(np.float64)))

    def save(self) -> None:
        """Write the stored and the new answers atomically, if anything was added."""
        if not self._new:
            return
        keep = np.ones(len(self._hi), dtype=bool)
        n_new = sum(len(h) for h, *_ in self._new)
        if self.full_after(n_new):
            keep = self._used.copy()  # drop what this run did not need first
        parts = [(self._hi[keep], self._lo[keep], self._best[keep], self._conf[keep]),
                 *self._new]
        hi, lo, best, conf = (np.concatenate([p[i] for p in parts]) for i in range(4))
        cut = max(0, len(hi) - self.max_texts)  # the newest answers come last
        order = cut + np.lexsort((lo[cut:], hi[cut:]))
        table = pa.table({"hi": hi[order], "lo": lo[order], "best": best[order],
                          "confidence": conf[order]})
        replace_cache_file(self.path, f"{PREFIX}*.parquet",
                           lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        self._new = []
