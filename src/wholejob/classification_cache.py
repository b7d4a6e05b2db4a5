"""A workspace's classification, kept between runs while nothing it reads has changed.

Classifying every activity (labels, the rule pass, the text model) is most of an
analysis at scale: about 50 of the 85-95 seconds of a repeated 10 M-activity
analysis (docs/benchmarks.md). Its answer depends only on

- the activities, accounts, opportunities and opportunity history;
- the job model and the settings the rules read (ICP rules, stage statuses);
- wholejob's own code and the libraries that compute it.

:class:`ClassificationCache` keys one Parquet file in the workspace's ``cache/``
folder by a digest of all of these, so every command after the first (each
report, each period the dashboard shows) reads the classification back instead
of computing it again:

- each input table by its row count and two order-free sums of its rows'
  hashes (the sum and the XOR of DuckDB's ``hash`` of the whole row), read in
  one scan (about 2 s at 10 M activities);
- the job model (its rules, and the examples the text model trains on), the
  ICP rules and the stage statuses, by their JSON;
- the code by a digest of the files of the installed ``wholejob`` package, and
  the versions of the libraries that compute the answer (:data:`LIBRARIES`).

Any change to any of them is a different key, so a stale answer is never read;
only the newest file of each kind is kept. The tables are keyed again before a
fresh classification is written, and it is not written if they changed meanwhile
(an import that committed while it ran). The cache needs the engine to be the
workspace's DuckDB (tables in the workspace file or read from existing tables
through ``[engine.tables]``); on other engines every run classifies afresh.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from importlib import metadata
from pathlib import Path

import duckdb
import ibis.expr.types as ir

import wholejob
from wholejob.engine import DuckDBEngine
from wholejob.jobmodel import JobModel
from wholejob.textstore import CACHE_DIR, replace_cache_file
from wholejob.workspace import Workspace

__all__ = ["INPUT_TABLES", "LIBRARIES", "PREFIX", "ClassificationCache", "code_digest"]

log = logging.getLogger(__name__)

# What the rule pass and the text model read.
INPUT_TABLES = ("activities", "accounts", "opportunities", "opportunity_history")
PREFIX = "classified-"
# The libraries whose versions are part of the key: they compute the answer.
LIBRARIES = ("duckdb", "ibis-framework", "scikit-learn", "scipy", "numpy", "numba", "pyarrow")


@functools.cache
def code_digest() -> str:
    """Return a digest of the installed ``wholejob`` package's files and its libraries' versions."""
    root = Path(wholejob.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name}={version}\0".encode())
    return h.hexdigest()


def _fingerprint(ws: Workspace, name: str) -> list[str]:
    """Row count, XOR and sum of the row hashes of one input table (one scan)."""
    sql = ws.con.compile(ws.table(name))
    row = ws.con.raw_sql(
        f"SELECT count(*), bit_xor(hash(t)), sum(hash(t)) FROM ({sql}) AS t"
    ).fetchone()
    return [name, *(str(v) for v in (row or ()))]


class ClassificationCache:
    """The cached classification of one workspace for one variant (with or without tags).

    Build it with :meth:`for_workspace`; :meth:`load` returns the cached table or
    ``None``, :meth:`save` stores a freshly computed one.
    """

    def __init__(self, ws: Workspace, model: JobModel, *, tags: bool) -> None:
        self.ws, self.model, self.tags = ws, model, tags
        self.kind = "tags" if tags else "plain"
        self.path = self._path()

    def _path(self) -> Path:
        """The entry's file, named by the digest of everything the classification reads."""
        ws = self.ws
        h = hashlib.sha256()
        parts = [code_digest(), self.model.model_dump_json(), ws.config.icp.model_dump_json(),
                 json.dumps(ws.config.stage_status(), sort_keys=True), json.dumps(self.tags),
                 json.dumps([_fingerprint(ws, name) for name in INPUT_TABLES])]
        for part in parts:
            h.update(part.encode() + b"\x1e")
        return ws.path / CACHE_DIR / f"{PREFIX}{self.kind}-{h.hexdigest()[:24]}.parquet"

    @classmethod
    def for_workspace(cls, ws: Workspace, model: JobModel, *,
                      tags: bool) -> ClassificationCache | None:
        """Return the cache entry for classifying ``ws`` with ``model``, or None.

        None where the engine is not the workspace's DuckDB.
        """
        if not isinstance(ws.engine, DuckDBEngine):
            return None
        return cls(ws, model, tags=tags)

    def load(self) -> ir.Table | None:
        """Return the cached classification as a temporary table, or None if there is none."""
        if not self.path.is_file():
            return None
        try:
            table = self.ws.engine.materialize(self.ws.con.read_parquet(self.path))
        except duckdb.Error as e:  # a damaged or foreign file: classify again
            # The message, not the exception: a log record keeping its traceback would
            # keep the caller's tables alive past the workspace's connection.
            log.info("ignoring unreadable classification cache %s: %s", self.path, str(e))
            return None
        log.info("classification: inputs unchanged, read %s", self.path.name)
        return table

    def save(self, classified: ir.Table) -> None:
        """Store ``classified`` (a materialised table) as the cache entry; older ones go.

        The inputs are keyed again first: if an import committed while
        ``classified`` was computed, it may hold the new rows' answers under the
        old rows' key, and nothing is stored.
        """
        if self._path() != self.path:
            log.info("classification: the data changed while it was classified; not cached")
            return
        replace_cache_file(self.path, f"{PREFIX}{self.kind}-*.parquet",
                           lambda tmp: self.ws.con.to_parquet(classified, tmp))
