"""Predict batches of texts on every core: worker processes that hold the fitted model.

The text model reads millions of distinct texts; NumPy, SciPy and Arrow run its
kernels on one core at a time. :func:`predict_chunks` sends batches to worker
processes, each given the fitted model once when it starts; then only texts go
out and answers come back. At most two batches per worker are in flight, so
memory stays bounded.

Each worker is a fresh interpreter (``python -c``) that talks over its stdin
and stdout, and imports only what unpickling the model needs. Not ``fork``:
forked workers share the analysing process's pages copy-on-write, and as
DuckDB rewrote its buffers during prediction each worker kept the old copies,
up to the parent's whole size per worker (2.5 GB each at 10 M activities);
forking a process with DuckDB's threads is also unsafe. Not ``multiprocessing``'s
spawn or fork server either: they import the caller's main script again in
every worker, which runs a script without a ``__main__`` guard twice.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from wholejob.errors import WholejobError

__all__ = ["WorkerError", "default_workers", "predict_chunks", "serve", "workers_available"]

_T = TypeVar("_T")
Answers = tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]
# Texts in, each text's class index and confidence out.
Predict = Callable[[pa.Array], Answers]
_PROTOCOL = 5
_WORKER = "from wholejob.textparallel import serve; serve()"
log = logging.getLogger(__name__)


class WorkerError(WholejobError):
    """A prediction worker failed or exited; the message carries its reason."""


def workers_available() -> bool:
    """Return whether this process may start worker processes.

    Not without a Python executable to start, nor in a daemonic process (such as
    a multiprocessing pool's worker), which may not have children.
    """
    return bool(sys.executable) and not multiprocessing.current_process().daemon


def serve(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    """Run a worker: read ``sys.path`` and the model, then answer texts until end of input.

    The first reply says whether the model loaded: ``("ready", None)`` or
    ``("error", reason)`` (and the worker ends). Then each batch gets
    ``("ok", answers)`` or ``("error", reason)``. Anything a library prints goes
    to stderr, so it cannot corrupt the replies.
    """
    if stdin is None or stdout is None:
        # Ctrl-C reaches the whole process group: the parent stops the workers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stdin = os.fdopen(os.dup(0), "rb")
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)  # stray prints from here on go to stderr

    def reply(message: tuple[str, Any]) -> None:
        pickle.dump(message, stdout, protocol=_PROTOCOL)
        stdout.flush()

    try:
        sys.path[:0] = [p for p in pickle.load(stdin) if p not in sys.path]
        predict: Predict = pickle.load(stdin)
    except Exception:
        reply(("error", traceback.format_exc(limit=3)))
        return
    reply(("ready", None))
    while True:
        try:
            texts = pickle.load(stdin)
        except EOFError:
            return
        try:
            reply(("ok", predict(texts)))
        except Exception:
            reply(("error", traceback.format_exc(limit=5)))


class _Worker:
    """One worker process; a feeder thread writes its input so reading never deadlocks."""

    def __init__(self, model: bytes) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self._inbox: queue.Queue[bytes | None] = queue.Queue()
        self._inbox.put(pickle.dumps(list(sys.path), protocol=_PROTOCOL))
        self._inbox.put(model)
        self._feeder = threading.Thread(target=self._feed, daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        pipe = self.proc.stdin
        assert pipe is not None
        try:
            while (blob := self._inbox.get()) is not None:
                pipe.write(blob)
                pipe.flush()
            pipe.close()
        except OSError:  # the worker is gone; reading its answers says why
            pass

    def submit(self, texts: pa.Array) -> None:
        self._inbox.put(pickle.dumps(texts, protocol=_PROTOCOL))

    def _reply(self, expected: str) -> Any:
        assert self.proc.stdout is not None
        try:
            status, value = pickle.load(self.proc.stdout)
        except (EOFError, pickle.UnpicklingError) as e:
            code = self.proc.wait()
            raise WorkerError(f"a text-model worker exited with code {code} ({e or 'no answer'})"
                              ) from None
        if status != expected:
            # One line for the user (the CLI prints errors as one line); the
            # worker's traceback goes to the log.
            log.debug("text-model worker traceback:\n%s", value)
            raise WorkerError(f"a text-model worker failed: {value.strip().splitlines()[-1]}")
        return value

    def ready(self) -> None:
        """Wait until the worker has loaded the model; raise :class:`WorkerError` if it cannot."""
        self._reply("ready")

    def result(self) -> Answers:
        answers: Answers = self._reply("ok")
        return answers

    def close(self, *, kill: bool) -> None:
        self._inbox.put(None)
        if kill:
            self.proc.kill()
        self.proc.wait()
        self._feeder.join()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def predict_chunks(
    predict: Predict,
    chunks: Iterator[tuple[pa.Array, _T]],
    workers: int,
) -> Iterator[tuple[_T, npt.NDArray[np.int16], npt.NDArray[np.float64]]]:
    """Yield ``(payload, best, confidence)`` per ``(texts, payload)`` chunk, in order.

    With more than one worker and more than one chunk, chunks go round the
    worker processes (``predict`` must pickle), at most two per worker in
    flight, so memory stays bounded however many texts stream through.
    """
    head = list(itertools.islice(chunks, 2))
    pool = _start(predict, workers) if workers > 1 and len(head) == 2 else []
    if not pool:  # one process: one worker asked for, one chunk, or workers cannot start
        for texts, ids in itertools.chain(head, chunks):
            yield ids, *predict(texts)
        return
    finished = False
    try:
        pending: deque[tuple[_T, _Worker]] = deque()
        for i, (texts, ids) in enumerate(itertools.chain(head, chunks)):
            worker = pool[i % workers]
            # A compact copy: pickling a slice of a larger array sends all of it.
            worker.submit(pa.concat_arrays([texts]))
            pending.append((ids, worker))
            while len(pending) > 2 * workers:
                done_ids, done = pending.popleft()
                yield done_ids, *done.result()
        while pending:
            done_ids, done = pending.popleft()
            yield done_ids, *done.result()
        finished = True
    finally:
        for w in pool:
            w.close(kill=not finished)


def _start(predict: Predict, workers: int) -> list[_Worker]:
    """Start the workers and wait until each has the model; none if they cannot start.

    Workers that cannot start (no Python to run, a model that does not load in a
    fresh interpreter) are not an error: the texts are predicted in this process,
    only slower, and a warning says why.
    """
    pool: list[_Worker] = []
    try:
        model = pickle.dumps(predict, protocol=_PROTOCOL)
        pool = [_Worker(model) for _ in range(workers)]
        for w in pool:
            w.ready()
    except (WorkerError, OSError, pickle.PicklingError, AttributeError, TypeError) as e:
        for w in pool:
            w.close(kill=True)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        log.warning("text model: predicting in this process; workers could not start: %s",
                    reason)
        return []
    return pool


def default_workers() -> int:
    """Return the number of processes to predict with: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
