"""Imports started from the dashboard: uploaded files imported in a worker thread.

The worker opens its own connection to the server's database, so pages keep
answering from the last committed state while the import's transaction runs.
One import runs at a time; jobs are kept in memory for the server's lifetime
(the workspace's import log keeps the summaries for good).
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wholejob.errors import ImportFailed, MappingError, WholejobError
from wholejob.workspace import Workspace

if TYPE_CHECKING:
    from wholejob.web.state import WebState

__all__ = ["ImportJob", "ImportJobs", "safe_filename"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """Return a file name with no folders and only portable characters."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[:120] or "upload"


@dataclass
class ImportJob:
    """One dashboard import: its files, progress and outcome."""

    job_id: str
    username: str
    files: list[str]
    preset: str | None
    mapping: str | None
    folder: Path
    rejects_path: Path
    started_at: datetime = field(default_factory=datetime.now)
    status: str = "queued"  # queued, running, done, failed
    step: str = ""
    done: int = 0
    total: int = 0
    summary: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None

    @property
    def has_rejects(self) -> bool:
        """Whether a rejects file was written."""
        return self.rejects_path.is_file()

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (what the progress page polls)."""
        return {
            "job_id": self.job_id,
            "username": self.username,
            "files": self.files,
            "preset": self.preset,
            "mapping": self.mapping,
            "status": self.status,
            "step": self.step,
            "done": self.done,
            "total": self.total,
            "progress": (self.done / self.total) if self.total else (
                1.0 if self.status in ("done", "failed") else 0.0),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "summary": self.summary,
            "error": self.error,
            "rejects_url": f"/imports/{self.job_id}/rejects.csv" if self.has_rejects else None,
        }


class ImportJobs:
    """The server's import jobs, run one at a time in a worker thread."""

    def __init__(self, state: WebState) -> None:
        self.state = state
        self.jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are kept (inside the workspace)."""
        return self.state.path / "uploads"

    def running(self) -> ImportJob | None:
        """Return the import in progress, if any."""
        return next((j for j in self.jobs.values() if j.status in ("queued", "running")), None)

    def new_job(self, username: str, preset: str | None, mapping: str | None) -> ImportJob:
        """Create a job and its upload folder; refuse while another import runs."""
        with self._lock:
            busy = self.running()
            if busy is not None:
                raise ImportFailed(f"import {busy.job_id} is still running; wait for it")
            job_id = f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
            folder = self.uploads_dir / job_id
            folder.mkdir(parents=True)
            job = ImportJob(job_id, username, [], preset, mapping, folder,
                            self.state.path / "rejects" / f"web-{job_id}.csv")
            self.jobs[job_id] = job
            return job

    def discard(self, job: ImportJob) -> None:
        """Forget a job that never started (its upload was refused)."""
        with self._lock:
            self.jobs.pop(job.job_id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def start(self, job: ImportJob) -> None:
        """Run the job's import in a worker thread."""
        job.status = "running"
        thread = threading.Thread(target=self._run, args=(job,), name=f"import-{job.job_id}",
                                  daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, job: ImportJob) -> None:
        from wholejob.importing.importer import import_paths
        from wholejob.importing.mapping import load_mapping, load_preset

        def progress(what: str, done: int, total: int) -> None:
            job.step, job.done, job.total = what, done, total

        ws = Workspace(self.state.path)
        try:
            data = job.folder / "data"
            if job.mapping:
                mapping: Any = load_mapping(job.folder / job.mapping)
            elif job.preset:
                mapping = load_preset(job.preset)
            else:
                mapping = None
            summary = import_paths(ws, [data], mapping=mapping, rejects_path=job.rejects_path,
                                   progress=progress)
            job.summary = summary.to_json()
            job.status = "done"
        except (ImportFailed, MappingError, WholejobError) as e:
            job.error, job.status = str(e), "failed"
        except Exception as e:  # the page must say what happened, never hang
            job.error, job.status = f"import failed: {type(e).__name__}: {e}", "failed"
        finally:
            ws.close()
            job.finished_at = datetime.now()
            self.state.bump()

    def wait(self, timeout: float = 60.0) -> None:
        """Wait for running imports (the server is shutting down)."""
        for t in self._threads:
            t.join(timeout)

    def find(self, job_id: str) -> ImportJob | None:
        """Return a job by id."""
        return self.jobs.get(job_id)
