"""Importing files into a workspace: route, read, validate, upsert, report.

:func:`import_paths` is the whole import as one library call. It reads every
file, routes each to an entity (by file name, or through a mapping), validates
the rows in the engine (:mod:`wholejob.importing.validation`) and upserts them
by key (:mod:`wholejob.importing.store`), entity by entity in
:data:`~wholejob.schema.ENTITY_ORDER` so references point at rows already
written. The whole import is one transaction: it lands completely or not at all.

Fatal problems (a file that cannot be read, is empty, has no entity, or lacks a
required column) stop the import before anything is written; the rejects file
still lists them. Rows that fail validation, records the reader cannot parse and
header-only files are rejected individually while the rest is imported.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb
import ibis
import ibis.expr.types as ir

from wholejob.config import WorkspaceConfig
from wholejob.errors import ImportFailed, WholejobError
from wholejob.importing import store
from wholejob.importing.sinks import Sink, sink_for
from wholejob.importing.sources import (
    SourceRead,
    drop_source_tables,
    entity_for_file,
    find_sources,
    read_source,
    unknown_entity_problem,
)
from wholejob.importing.summary import Counts, FileSummary, ImportSummary
from wholejob.importing.validation import (
    Rules,
    check_duplicates,
    check_fields,
    check_references,
    duplicate_keys,
    flag_rows,
    keeps_type,
    repeated_keys,
    unknown_references,
)
from wholejob.jobmodel import load_job_model
from wholejob.schema import ENTITIES, ENTITY_ORDER, Entity
from wholejob.workspace import Workspace

__all__ = [
    "ProgressCallback",
    "Route",
    "SourceMapping",
    "StemRoute",
    "import_paths",
    "practice_ids_for",
]

ProgressCallback = Callable[[str, int, int], None]
"""Called with (what is happening, steps done, total steps)."""


class Route(Protocol):
    """How one file (or one part of it) becomes rows of one entity."""

    @property
    def entity(self) -> str:
        """The entity the rows become."""

    @property
    def label(self) -> str:
        """A short name for the route, shown in summaries."""

    def apply(self, raw: ir.Table) -> ir.Table:
        """Turn the file's string columns (+ ``_line``) into ``_line`` + contract columns."""

    def source_column(self, contract_col: str) -> str | None:
        """Name the source column a contract column comes from, for rejects."""


class SourceMapping(Protocol):
    """Routes files to entities (a mapping file or preset)."""

    def route(self, file: Path) -> Sequence[Route]:
        """Return the routes of ``file``; empty when the mapping does not know it."""


def practice_ids_for(config: WorkspaceConfig) -> tuple[str, ...]:
    """Return the practice ids of the workspace's job model (with its overrides)."""
    return tuple(load_job_model(config).practice_ids)


@dataclass(frozen=True)
class StemRoute:
    """The route of a canonical file: contract columns by name, the rest ignored."""

    entity: str
    label: str
    renames: dict[str, str]  # contract column -> source column

    @classmethod
    def for_columns(cls, entity: Entity, columns: Sequence[str]) -> StemRoute:
        """Match source columns to contract columns by name (trimmed, any case)."""
        renames: dict[str, str] = {}
        wanted = {c.lower(): c for c in entity.column_names}
        for src in columns:
            name = wanted.get(src.strip().lower())
            if name is not None and (name not in renames or src == name):
                renames[name] = src
        return cls(entity.name, entity.name, renames)

    def ignored(self, columns: Sequence[str]) -> list[str]:
        """Source columns that are not part of the contract."""
        used = set(self.renames.values())
        return [c for c in columns if c not in used]

    def apply(self, raw: ir.Table) -> ir.Table:
        """Select the contract columns under their contract names."""
        return raw.select("_line", **{c: raw[s] for c, s in self.renames.items()})

    def source_column(self, contract_col: str) -> str | None:
        """Return the file's name for a contract column."""
        return self.renames.get(contract_col)


@dataclass
class _Part:
    """One route of one file through the import."""

    src: int
    path: Path
    summary: FileSummary
    route: Route | None = None
    read: SourceRead | None = None
    applied: ir.Table | None = None
    fatal: str | None = None
    renames: dict[str, str] = field(default_factory=dict)


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def partial_path(path: Path) -> Path:
    """Where a rejects or warnings file is written until its import commits."""
    return path.with_name(f"{path.name}.partial")


def _default_rejects_path(ws: Workspace, when: datetime) -> Path:
    stem = f"import-{when:%Y%m%d-%H%M%S}"
    path = ws.rejects_dir / f"{stem}.csv"
    n = 2
    while path.exists():
        path = ws.rejects_dir / f"{stem}-{n}.csv"
        n += 1
    return path


def import_paths(
    ws: Workspace,
    paths: Sequence[Path],
    *,
    mapping: SourceMapping | None = None,
    practice_ids: Sequence[str] | None = None,
    rejects_path: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import files and folders into ``ws`` in one transaction and return the summary.

    ``practice_ids`` default to the workspace job model's. Rejected rows and
    file-level problems go to ``rejects_path`` (default: a timestamped CSV in the
    workspace's rejects folder), written only when there is something to list;
    unknown optional references go to a ``-warnings.csv`` next to it. Raises
    :class:`ImportFailed` when the import as a whole cannot go ahead; the
    workspace is then unchanged.
    """
    files = find_sources(paths)
    ids = tuple(practice_ids) if practice_ids is not None else practice_ids_for(ws.config)
    rules = Rules.from_config(ws.config, ids, engine=ws.engine.kind)
    started = datetime.now()
    rejects = Path(rejects_path) if rejects_path is not None else _default_rejects_path(ws, started)
    run = _Run(ws, files, mapping, rules, rejects, progress)
    try:
        return run.execute(started)
    except WholejobError:
        raise
    except (duckdb.Error, ibis.common.exceptions.IbisError, OSError, ValueError) as e:
        raise ImportFailed(f"import failed, nothing was changed: {_one_line(e)}") from e
    except Exception as e:  # an unexpected failure must still leave one clear line
        raise ImportFailed(
            f"import failed, nothing was changed: {type(e).__name__}: {_one_line(e)}"
        ) from e


class _Run:
    """The state of one import while it runs inside its transaction."""

    def __init__(
        self,
        ws: Workspace,
        files: Sequence[Path],
        mapping: SourceMapping | None,
        rules: Rules,
        rejects: Path,
        progress: ProgressCallback | None,
    ) -> None:
        self.ws = ws
        self.files = list(files)
        self.mapping = mapping
        self.rules = rules
        self.rejects = rejects
        self.warnings_path = rejects.with_name(f"{rejects.stem}-warnings.csv")
        # (partial, final) rejects and warnings files written but not yet committed.
        self._written: list[tuple[Path, Path]] = []
        self.progress = progress
        self.parts: list[_Part] = []
        self.reads: list[SourceRead] = []
        self.steps = len(self.files) + len(ENTITY_ORDER) + 1
        self.done = 0
        self.sink: Sink = sink_for(ws)

    def _step(self, what: str, *, advance: bool = True) -> None:
        if advance:
            self.done += 1
        if self.progress is not None:
            self.progress(what, min(self.done, self.steps), self.steps)

    def execute(self, started: datetime) -> ImportSummary:
        """Run the import: read outside, write inside one transaction, always clean up.

        Files are read (CSV into temporary tables, Parquet as views of the files)
        before the transaction starts: that writes nothing to the workspace, and
        the engine scans committed temporary tables faster than transaction-local
        ones.
        """
        con = self.ws.raw
        try:
            summary = ImportSummary(
                import_id=f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
            )
            store.start(con)
            self._read_all(con, summary)
            self.ws.engine.check_writable(
                sorted({p.summary.entity for p in self.parts if p.summary.entity}))
            with self.sink.transaction():
                self._write_all(con, summary)
            # Committed: only now do the rejects and warnings files get their names,
            # so an import that never landed (killed, failed) leaves none behind.
            for partial, final in self._written:
                os.replace(partial, final)
            self._written = []
            self._step("done")
            return summary
        finally:
            self._clean_up(con)

    def _read_all(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
        for i, path in enumerate(self.files):
            self._step(f"reading {path.name}", advance=False)
            self._read_file(con, i, path, summary)
            self._step(f"read {path.name}")
        if not self.parts:
            raise ImportFailed(
                "none of the files can be imported: the mapping covers none of them "
                "and none is named after an entity"
            )
        for p in self.parts:
            if p.fatal or p.summary.problem:
                store.add_file_problem(con, p.src, p.fatal or p.summary.problem or "")
        fatal = [p for p in self.parts if p.fatal]
        if fatal:
            written = store.write_csv(con, store.REJECTS_TABLE, self.rejects)
            first = fatal[0]
            more = f" (and {len(fatal) - 1} more)" if len(fatal) > 1 else ""
            where = f"; see {self.rejects}" if written else ""
            raise ImportFailed(
                f"{first.path}: {first.fatal}{more}; nothing was imported{where}"
            )
        for p in self.parts:
            if p.summary.problem:
                summary.problems.append(f"{p.path}: {p.summary.problem}")

    def _write_all(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
        for name in ENTITY_ORDER:
            self._step(f"importing {name}", advance=False)
            self._import_entity(con, ENTITIES[name], summary)
            self._step(f"imported {name}")
        order = {name: i for i, name in enumerate(ENTITY_ORDER)}
        summary.files = [p.summary for p in sorted(
            self.parts, key=lambda p: (order.get(p.summary.entity or "", -1), p.src))]
        # Written inside the transaction (a disk that cannot take them fails the
        # import), under a partial name until the commit (see execute).
        if store.write_csv(con, store.REJECTS_TABLE, partial_path(self.rejects)):
            self._written.append((partial_path(self.rejects), self.rejects))
            summary.rejects_file = self.rejects
        if store.write_csv(con, store.WARNINGS_TABLE, partial_path(self.warnings_path)):
            self._written.append((partial_path(self.warnings_path), self.warnings_path))
            summary.warnings_file = self.warnings_path
        store.record_import(con, summary.import_id, datetime.now(),
                            [str(f) for f in self.files], summary.to_json())

    def _clean_up(self, con: duckdb.DuckDBPyConnection) -> None:
        for partial, _ in self._written:  # the import did not land
            partial.unlink(missing_ok=True)
        try:
            drop_source_tables(con, self.reads)
            store.drop_tables(con, [store.FILES_TABLE, store.REJECTS_TABLE,
                                    store.WARNINGS_TABLE])
        except duckdb.Error:  # never hide the error that got us here
            pass

    def _new_part(self, con: duckdb.DuckDBPyConnection, path: Path, entity: str | None,
                  route: Route | None) -> _Part:
        part = _Part(len(self.parts), path, FileSummary(str(path), entity,
                                                         route.label if route else None))
        part.route = route
        self.parts.append(part)
        store.add_file(con, part.src, str(path))
        return part

    def _routes(self, path: Path) -> list[Route]:
        if self.mapping is not None:
            routes = list(self.mapping.route(path))
            if routes:
                return routes
        # Canonical files may sit next to a CRM export: route them by name.
        name = entity_for_file(path)
        if name is None:
            return []
        return [StemRoute(name, name, {})]  # columns are matched once the header is read

    def _read_file(self, con: duckdb.DuckDBPyConnection, i: int, path: Path,
                   summary: ImportSummary) -> None:
        routes = self._routes(path)
        if not routes and self.mapping is not None:
            # A CRM export folder holds many files a mapping has no use for
            # (Salesforce's UserRole.csv, OpportunityLineItem.csv, ...): skip them, say so.
            summary.warnings.append(
                f"{path}: skipped, neither the mapping nor the file name says which entity "
                "it holds"
            )
            return
        if not routes:
            self._new_part(con, path, None, None).fatal = unknown_entity_problem(path)
            return
        read = read_source(con, path, f"_wj_src_{i}")
        self.reads.append(read)
        for route in routes:
            if isinstance(route, StemRoute):
                route = StemRoute.for_columns(ENTITIES[route.entity], read.columns)
                ignored = route.ignored(read.columns)
                if ignored and not read.fatal:
                    summary.warnings.append(
                        f"{path}: ignored columns not in the {route.entity} contract: "
                        + ", ".join(ignored)
                    )
            part = self._new_part(con, path, route.entity, route)
            part.read = read
            part.summary.counts.read = read.read
            part.summary.counts.rejected = read.parse_rejected
            if read.fatal:
                part.fatal = read.problem
                continue
            part.summary.problem = read.problem
            if read.problem is not None:  # header only: nothing to route
                continue
            self._apply(part, route, read)
        if read.parse_rejects is not None and not read.fatal:
            # Listed once per file, counted for every route that reads it.
            store.add_parse_rejects(con, self.parts[-len(routes)].src, read.parse_rejects)

    def _apply(self, part: _Part, route: Route, read: SourceRead) -> None:
        entity = ENTITIES[route.entity]
        raw = self.ws.meta.table(read.table)
        if not isinstance(route, StemRoute):  # mappings work on text
            raw = raw.select(*(raw[c] if c == "_line" else raw[c].cast("string")
                               for c in raw.columns))
        applied = route.apply(raw)
        missing = [c for c in entity.required if c not in applied.columns]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            part.fatal = (f"missing required column{plural} {', '.join(missing)} "
                          f"for {entity.name}")
            return
        part.applied = applied
        part.renames = {
            c: s for c in entity.column_names
            if (s := route.source_column(c)) is not None and s != c
        }

    def _strings(self, entity: Entity, parts: Sequence[_Part]) -> ir.Table:
        """The parts' rows as ``_src``, ``_line`` and the contract columns.

        A column stays typed where every part holds it with a type validation
        reads as it is (:func:`keeps_type`: typed Parquet); otherwise it is text.
        """
        typed = {
            col.name for col in entity.columns
            if all(p.applied is not None and col.name in p.applied.columns
                   and keeps_type(col, p.applied[col.name].type()) for p in parts)
            and len({p.applied[col.name].type() for p in parts if p.applied is not None}) == 1
        }
        tables = []
        for p in parts:
            t = p.applied
            assert t is not None
            tables.append(t.select(
                _src=ibis.literal(p.src, "int32"),
                _line=t["_line"].cast("int64"),
                **{c: (t[c] if c in typed else t[c].cast("string")) if c in t.columns
                   else ibis.null("string") for c in entity.column_names},
            ))
        return tables[0] if len(tables) == 1 else ibis.union(*tables, distinct=False)

    def _targets(self, entity: Entity) -> dict[str, ir.Column]:
        out: dict[str, ir.Column] = {}
        for col in entity.columns:
            if col.ref is not None:
                table, column = col.ref.split(".")
                out[col.name] = self.ws.table(table)[column]
        return out

    def _import_entity(self, con: duckdb.DuckDBPyConnection, entity: Entity,
                       summary: ImportSummary) -> None:
        parts = [p for p in self.parts if p.summary.entity == entity.name]
        if not parts:
            return
        counts = summary.entities.setdefault(entity.name, Counts())
        live = [p for p in parts if p.applied is not None and p.read and p.read.rows]
        if live:
            self._check_and_write(entity, live, summary)
        for p in parts:
            counts.add(p.summary.counts)
            if not p.summary.counts.balanced:  # a bug, not bad input: refuse to commit
                raise ImportFailed(f"{p.path}: counts do not add up ({p.summary.counts})")

    def _check_and_write(self, entity: Entity, live: Sequence[_Part],
                         summary: ImportSummary) -> None:
        """Validate the parts' rows, record rejects, write the accepted rows, count.

        The field checks are a view of the sources on DuckDB (each step below
        streams the files again, reading only the columns it needs, instead of
        holding a copy of every row); duplicates are looked up in the small
        table of keys held more than once. One pass evaluates every check and
        keeps the few rows that are rejected or refer to unknown ids. When none
        is rejected, the write reads only the typed values; otherwise it reads
        the rows that passed the checks (the field checks alone unless a row was
        rejected for a duplicate or an unknown reference), in the same order.
        """
        name = entity.name
        names = [p.path.name for p in self.parts]
        strings = self.sink.load(self._strings(entity, live), f"_wj_strings_{name}")
        checks = check_fields(entity, strings, self.rules)
        fields_name, dups_name = f"_wj_fields_{name}", f"_wj_dups_{name}"
        fields = self.sink.stage(fields_name, checks.mutate(_fields_ok=checks["_reason"].isnull()))
        repeated_name = f"_wj_repeated_{name}"
        repeated = self.sink.materialize(repeated_name, repeated_keys(entity, fields))
        if self.sink.count(repeated):
            dups = self.sink.materialize(dups_name, duplicate_keys(entity, fields, repeated))
        else:  # no key appears twice: no duplicates, whatever passed
            dups = self.sink.materialize(dups_name, duplicate_keys(entity, fields.limit(0)))
        checked_name, side_name = f"_wj_checked_{name}", f"_wj_side_{name}"
        targets = self._targets(entity)
        checked = self.sink.view(checked_name, check_references(
            entity, check_duplicates(entity, fields, names, dups), targets))
        # Other entities' tables do not change while this one is written, so the
        # one pass that finds the rejects also keeps the rows whose optional
        # references they do not hold (few). A reference into the entity itself
        # (reps.manager_id) is looked up after the write, which adds its targets.
        early = {c: ids for c, ids in targets.items() if not entity.column(c).required
                 and not (entity.column(c).ref or "").startswith(f"{name}.")}
        after = {c: ids for c, ids in targets.items() if not entity.column(c).required
                 and c not in early}
        side = self.sink.materialize(side_name, flag_rows(checked, early))
        renames = {p.src: p.renames for p in live}
        rejected, late = self.sink.add_rejects(side, side_name, renames)
        self._warn_unknown(entity, side, early, renames, summary)
        self.sink.drop(side_name)  # as large as the rejects: not kept during the write
        accepted = {p.src: p.read.rows - rejected.get(p.src, 0) for p in live if p.read}
        if rejected:  # the rows that passed every check, in the order the checks give
            final, final_name = (checked, checked_name) if late else (fields, fields_name)
        else:
            # Nothing rejected: every row is accepted, so the write reads only the
            # typed values and the engine computes no reason for any row.
            final_name = f"_wj_accepted_{name}"
            final = self.sink.view(final_name, fields.select(
                "_src", "_line", *entity.column_names, _reason=ibis.null("string")))
        written = self.sink.upsert(entity, final, final_name, accepted)
        self._warn_unknown(entity, final, after, renames, summary)
        for temp in (final_name, checked_name, dups_name, repeated_name, fields_name):
            self.sink.drop(temp)
        for p in live:
            c = p.summary.counts
            c.rejected += rejected.get(p.src, 0)
            w = written.get(p.src)
            if w is not None:
                c.inserted, c.updated, c.unchanged = w.inserted, w.updated, w.unchanged

    def _warn_unknown(self, entity: Entity, checked: ir.Table, targets: dict[str, ir.Column],
                      renames: dict[int, dict[str, str]], summary: ImportSummary) -> None:
        """Record the accepted rows' unknown optional references into ``targets``."""
        accepted = checked.filter(checked["_reason"].isnull())
        found = unknown_references(entity, accepted, targets)
        if found is None:
            return
        per_column = self.sink.add_warnings(found, renames)
        for column, n in sorted(per_column.items()):
            summary.unknown_references[f"{entity.name}.{column}"] = n
