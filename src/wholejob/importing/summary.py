"""The outcome of an import: counts per entity and per file, rejects, warnings.

For every entity and every file, ``inserted + updated + unchanged + rejected ==
read``. The exit code is 0 when everything read was accepted and 2 when rows or
files were rejected but the rest imported; an import that fails as a whole raises
:class:`~wholejob.errors.ImportFailed` (exit code 1) instead of returning a summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Counts", "FileSummary", "ImportSummary"]


@dataclass
class Counts:
    """Rows read from the sources and what became of them."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        """Add another set of counts to this one."""
        self.read += other.read
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected

    @property
    def balanced(self) -> bool:
        """Whether every row read is accounted for exactly once."""
        return self.inserted + self.updated + self.unchanged + self.rejected == self.read

    def to_json(self) -> dict[str, int]:
        """Return the counts as a plain dict."""
        return asdict(self)


@dataclass
class FileSummary:
    """What one file (or one route of a mapped file) contributed to the import."""

    path: str
    entity: str | None
    route: str | None = None
    counts: Counts = field(default_factory=Counts)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the file's summary as a plain dict (counts at top level)."""
        return {
            "path": self.path,
            "entity": self.entity,
            "route": self.route,
            **self.counts.to_json(),
            "problem": self.problem,
        }


@dataclass
class ImportSummary:
    """Counts per entity and per file, where rejects and warnings went, and notes."""

    import_id: str
    entities: dict[str, Counts] = field(default_factory=dict)
    files: list[FileSummary] = field(default_factory=list)
    rejects_file: Path | None = None
    warnings_file: Path | None = None
    unknown_references: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # non-fatal file-level problems
    warnings: list[str] = field(default_factory=list)  # e.g. ignored unknown columns

    @property
    def rejected(self) -> int:
        """Rows rejected across all entities."""
        return sum(c.rejected for c in self.entities.values())

    @property
    def exit_code(self) -> int:
        """0 when everything was accepted, 2 when rows or files were rejected."""
        return 2 if self.rejected or self.problems else 0

    def to_json(self) -> dict[str, Any]:
        """Return the summary in the shape of ``wholejob import --format json``."""
        return {
            "import_id": self.import_id,
            "entities": {name: c.to_json() for name, c in self.entities.items()},
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "warnings_file": str(self.warnings_file) if self.warnings_file else None,
            "files": [f.to_json() for f in self.files],
            "unknown_references": dict(self.unknown_references),
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "exit_code": self.exit_code,
        }
