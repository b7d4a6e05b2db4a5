"""A real CRM export folder holds files a preset has no use for: they are skipped, said."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wholejob.errors import ImportFailed
from wholejob.importing.importer import import_paths
from wholejob.importing.mapping import load_preset
from wholejob.workspace import init_workspace

FIXTURES = Path(__file__).parent / "fixtures" / "salesforce"


def test_unmapped_files_in_an_export_folder_are_skipped_with_a_warning(tmp_path):
    export = tmp_path / "export"
    shutil.copytree(FIXTURES, export)
    (export / "UserRole.csv").write_text("Id,Name\n00E1,CEO\n")
    ws = init_workspace(tmp_path / "ws")
    summary = import_paths(ws, [export], mapping=load_preset("salesforce"))
    assert any("UserRole.csv: skipped" in w for w in summary.warnings)
    assert summary.to_json()["entities"]["opportunities"]["inserted"] > 0
    ws.close()


def test_a_folder_the_mapping_does_not_cover_at_all_is_refused(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "UserRole.csv").write_text("Id,Name\n00E1,CEO\n")
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(ImportFailed, match="none of the files can be imported"):
        import_paths(ws, [export], mapping=load_preset("salesforce"))
    assert ws.counts()["reps"] == 0
    ws.close()
