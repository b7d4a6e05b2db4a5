"""Predict batches of texts on every core: worker processes forked with the fitted model.

The text model reads millions of distinct texts; NumPy, SciPy and Arrow run its
kernels on one core at a time. :func:`predict_chunks` sends batches to a pool of
processes forked from this one, so each worker inherits the fitted model (no
pickling, pages shared until written) and only texts go out and answers come
back. At most two batches per worker are in flight, so memory stays bounded.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["default_workers", "fork_available", "predict_chunks"]

_T = TypeVar("_T")
Answers = tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]
# Texts in, each text's class index and confidence out.
Predict = Callable[[pa.Array], Answers]


def fork_available() -> bool:
    """Return whether this process can fork worker processes.

    Not where the platform has no ``fork``, nor in a daemonic process (such as
    a multiprocessing pool's worker), which may not have children.
    """
    return ("fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


# What a forked worker predicts with: set in the parent just before the pool
# forks, so each worker inherits the fitted model instead of unpickling it.
_FORKED: Predict | None = None


def _predict_forked(texts: pa.Array) -> Answers:
    assert _FORKED is not None, "a worker forked without a model"
    return _FORKED(texts)


def _fork_pool(predict: Predict, workers: int) -> ProcessPoolExecutor:
    """Return a pool of ``workers`` processes forked with ``predict`` ready to run."""
    global _FORKED
    # One call first sets up whatever ``predict`` builds lazily (the model's n-gram
    # counter, imports), so workers share it and none builds or imports while forked.
    predict(pa.array([""], pa.string()))
    _FORKED = predict
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    with warnings.catch_warnings():
        # Python 3.12+ warns on any fork of a process with threads (DuckDB's). The
        # workers only run NumPy, SciPy and Arrow kernels on their own arrays and
        # never touch the engine, whose locks are all a fork could leave held.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                DeprecationWarning)
        pool.submit(int).result()  # a fork pool starts all its workers on the first task
    return pool


def predict_chunks(
    predict: Predict,
    chunks: Iterator[tuple[pa.Array, _T]],
    workers: int,
) -> Iterator[tuple[_T, npt.NDArray[np.int16], npt.NDArray[np.float64]]]:
    """Yield ``(payload, best, confidence)`` per ``(texts, payload)`` chunk, in order.

    With more than one worker and more than one chunk, chunks go to a pool of
    forked processes, at most two per worker in flight, so memory stays bounded
    however many texts stream through.
    """
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for texts, ids in itertools.chain(head, chunks):
            yield ids, *predict(texts)
        return
    pool = _fork_pool(predict, workers)
    try:
        pending: deque[tuple[_T, Future[Answers]]] = deque()
        for texts, ids in itertools.chain(head, chunks):
            # A compact copy: pickling a slice of a larger array sends all of it.
            pending.append((ids, pool.submit(_predict_forked, pa.concat_arrays([texts]))))
            while len(pending) > 2 * workers:
                done_ids, fut = pending.popleft()
                yield done_ids, *fut.result()
        while pending:
            done_ids, fut = pending.popleft()
            yield done_ids, *fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        global _FORKED
        _FORKED = None


def default_workers() -> int:
    """Return the number of processes to predict with: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
