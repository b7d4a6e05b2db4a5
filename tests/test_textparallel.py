"""Worker processes: answers come back in order, from other processes, never from a daemon's."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pyarrow as pa

from wholejob.textparallel import workers_available, predict_chunks


def _lengths_and_pid(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(t) for t in texts.to_pylist()], dtype=np.int16)
    return lengths, np.full(len(texts), float(os.getpid()))


def test_chunks_are_answered_by_workers_in_order():
    chunks = [(pa.array(["x" * i, "y" * (i + 1)]), i) for i in range(12)]
    got = list(predict_chunks(_lengths_and_pid, iter(chunks), workers=2))
    assert [payload for payload, _, _ in got] == list(range(12))
    for payload, lengths, _ in got:
        assert lengths.tolist() == [payload, payload + 1]
    pids = {int(p) for _, _, pid in got for p in pid}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_one_chunk_or_one_worker_stays_in_this_process():
    one = list(predict_chunks(_lengths_and_pid, iter([(pa.array(["ab"]), "a")]), workers=2))
    two = list(predict_chunks(_lengths_and_pid,
                              iter([(pa.array(["ab"]), "a"), (pa.array(["c"]), "b")]),
                              workers=1))
    assert {int(p) for _, _, pid in one + two for p in pid} == {os.getpid()}


def _report_workers_available(queue) -> None:
    queue.put(workers_available())


def test_a_daemonic_process_does_not_fork_workers():
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_report_workers_available, args=(queue,), daemon=True)
    child.start()
    in_daemon = queue.get(timeout=60)
    child.join(60)
    assert workers_available() is True
    assert in_daemon is False
