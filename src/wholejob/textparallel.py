"""Predict batches of texts on every core: a pool of worker processes with the fitted model.

The text model reads millions of distinct texts; NumPy, SciPy and Arrow run its
kernels on one core at a time. :func:`predict_chunks` sends batches to a pool of
worker processes, each given the fitted model once when it starts; then only
texts go out and answers come back. At most two batches per worker are in
flight, so memory stays bounded.

Workers come from a fork server, a small process started once that has
imported the text model's modules: forking them from the analysing process
itself would share its pages copy-on-write, and as DuckDB rewrote its buffers
each worker kept the old copies, up to the parent's whole size per worker
(2.5 GB each at 10 M activities).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["default_workers", "predict_chunks", "workers_available"]

_T = TypeVar("_T")
Answers = tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]
# Texts in, each text's class index and confidence out.
Predict = Callable[[pa.Array], Answers]
# What the fork server imports once, so a new worker starts without importing them.
_PRELOAD = ["__main__", "wholejob.textmodel"]


def workers_available() -> bool:
    """Return whether this process can start worker processes.

    Not where the platform has no fork server (Windows), nor in a daemonic
    process (such as a multiprocessing pool's worker), which may not have children.
    """
    return ("forkserver" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


# What a worker predicts with: set once, when the worker starts.
_PREDICT: Predict | None = None


def _start_worker(predict: Predict) -> None:
    global _PREDICT
    _PREDICT = predict


def _predict_in_worker(texts: pa.Array) -> Answers:
    assert _PREDICT is not None, "a worker started without a model"
    return _PREDICT(texts)


def _pool(predict: Predict, workers: int) -> ProcessPoolExecutor:
    """Return a pool of ``workers`` processes, each given ``predict`` (pickled once)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)  # no effect once the server runs
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=_start_worker,
                               initargs=(predict,))


def predict_chunks(
    predict: Predict,
    chunks: Iterator[tuple[pa.Array, _T]],
    workers: int,
) -> Iterator[tuple[_T, npt.NDArray[np.int16], npt.NDArray[np.float64]]]:
    """Yield ``(payload, best, confidence)`` per ``(texts, payload)`` chunk, in order.

    With more than one worker and more than one chunk, chunks go to a pool of
    worker processes (``predict`` must pickle), at most two per worker in
    flight, so memory stays bounded however many texts stream through.
    """
    head = list(itertools.islice(chunks, 2))
    if workers <= 1 or len(head) < 2:
        for texts, ids in itertools.chain(head, chunks):
            yield ids, *predict(texts)
        return
    pool = _pool(predict, workers)
    try:
        pending: deque[tuple[_T, Future[Answers]]] = deque()
        for texts, ids in itertools.chain(head, chunks):
            # A compact copy: pickling a slice of a larger array sends all of it.
            pending.append((ids, pool.submit(_predict_in_worker, pa.concat_arrays([texts]))))
            while len(pending) > 2 * workers:
                done_ids, fut = pending.popleft()
                yield done_ids, *fut.result()
        while pending:
            done_ids, fut = pending.popleft()
            yield done_ids, *fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """Return the number of processes to predict with: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
