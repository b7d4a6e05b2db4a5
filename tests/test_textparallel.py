"""Worker processes: answers come back in order, from other processes, never from a daemon's."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from wholejob.textparallel import WorkerError, predict_chunks, workers_available


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


def _fails_on_b(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if "b" in texts.to_pylist():
        raise ValueError("cannot read 'b'")
    return _lengths_and_pid(texts)


def _dies(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    os._exit(3)


def test_a_worker_error_stops_the_run_with_its_reason():
    chunks = [(pa.array(["a"]), 0), (pa.array(["b"]), 1), (pa.array(["c"]), 2)]
    with pytest.raises(WorkerError, match="ValueError: cannot read 'b'"):
        list(predict_chunks(_fails_on_b, iter(chunks), workers=2))
    with pytest.raises(WorkerError, match="exited with code 3"):
        list(predict_chunks(_dies, iter(chunks), workers=2))


def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """Workers do not import the caller's main script again (spawn and fork servers do)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import pyarrow as pa\n"
        "from test_textparallel import _lengths_and_pid\n"
        "from wholejob.textparallel import predict_chunks\n"
        "print('script body ran', flush=True)\n"
        "chunks = [(pa.array(['x' * i]), i) for i in range(6)]\n"
        "got = list(predict_chunks(_lengths_and_pid, iter(chunks), workers=2))\n"
        "print('answers', [int(lengths[0]) for _, lengths, _ in got], flush=True)\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    assert out.stdout.count("script body ran") == 1
    assert "answers [0, 1, 2, 3, 4, 5]" in out.stdout


def _refuse_to_load() -> None:
    raise RuntimeError("this model does not load here")


class _LoadsOnlyHere:
    """A predictor that pickles but cannot be unpickled in a worker."""

    def __call__(self, texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        return _lengths_and_pid(texts)

    def __reduce__(self):
        return (_refuse_to_load, ())


def test_workers_that_cannot_load_the_model_leave_the_work_to_this_process(caplog):
    chunks = [(pa.array(["x" * i]), i) for i in range(5)]
    got = list(predict_chunks(_LoadsOnlyHere(), iter(chunks), workers=2))
    assert [payload for payload, _, _ in got] == list(range(5))
    assert [int(lengths[0]) for _, lengths, _ in got] == list(range(5))
    assert {int(p) for _, _, pid in got for p in pid} == {os.getpid()}
    assert "workers could not start" in caplog.text
    assert "this model does not load here" in caplog.text
