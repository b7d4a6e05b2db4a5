"""The Salesforce and HubSpot presets, end to end on exports in each CRM's own layout."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest

from wholejob.errors import MappingError
from wholejob.importing.importer import import_paths
from wholejob.importing.mapping import load_preset
from wholejob.workspace import Workspace, init_workspace

FIXTURES = Path(__file__).parent / "fixtures"


def rows(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    return ws.raw.execute(sql).fetchall()


def rejects(path: Path | None) -> list[dict[str, str]]:
    assert path is not None
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


def test_every_fixture_file_has_a_route() -> None:
    for preset in ("salesforce", "hubspot"):
        mapping = load_preset(preset)
        for file in sorted((FIXTURES / preset).glob("*.csv")):
            assert len(mapping.route(file)) == 1, file.name


# --- Salesforce ---------------------------------------------------------------------


def test_salesforce_imports_every_entity(ws: Workspace) -> None:
    summary = import_paths(ws, [FIXTURES / "salesforce"], mapping=load_preset("salesforce"))
    counts = {name: c.to_json() for name, c in summary.entities.items()}
    expected_read = {
        "reps": 5,
        "accounts": 5,
        "contacts": 6,
        "opportunities": 6,
        "opportunity_history": 9,
        "activities": 11,
    }
    assert {n: c["read"] for n, c in counts.items()} == expected_read
    assert {n: c["rejected"] for n, c in counts.items()} == {
        **{n: 0 for n in expected_read},
        "opportunities": 1,
    }

    # The deliberately bad row: a stage no ladder knows.
    [bad] = rejects(summary.rejects_file)
    assert bad["file"].endswith("Opportunity.csv")
    assert (bad["line"], bad["column"], bad["value"]) == ("7", "StageName", "Hibernating")
    assert "unknown stage" in bad["reason"]

    assert rows(ws, "SELECT rep_id, role, team, manager_id FROM reps ORDER BY rep_id")[:2] == [
        ("0055e000001AbCdAAA", "manager", "West Sales Manager", None),
        ("0055e000001AbCeAAA", "rep", "West Sales", "0055e000001AbCdAAA"),
    ]
    customers = rows(
        ws,
        "SELECT name, customer_since FROM accounts WHERE customer_since IS NOT NULL ORDER BY name",
    )
    assert [(n, str(d)) for n, d in customers] == [
        ("Initech", "2021-11-30"),
        ("Northwind Traders", "2022-04-18"),
    ]
    assert rows(ws, "SELECT name, seniority FROM contacts ORDER BY contact_id") == [
        ("Priya Natarajan", "executive"),
        ("Greg Olsen", "manager"),
        ("Hank Scorpio", "executive"),
        ("Peter Gibbons", "staff"),
        ("Olivia Grant", None),
        ("Jonas Weber", "manager"),
    ]
    opps = rows(
        ws,
        "SELECT opportunity_id, stage, status, kind, source, CAST(created_on AS VARCHAR)"
        " FROM opportunities ORDER BY opportunity_id",
    )
    assert opps == [
        ("0065e00000Op1AAAAZ", "negotiation", "open", "expansion", "referral", "2024-01-15"),
        ("0065e00000Op2AAAAZ", "prospecting", "open", "new_logo", "inbound", "2024-02-20"),
        ("0065e00000Op3AAAAZ", "closed_won", "won", "renewal", None, "2023-12-01"),
        ("0065e00000Op4AAAAZ", "closed_lost", "lost", "new_logo", "marketing", "2024-01-10"),
        ("0065e00000Op5AAAAZ", "qualification", "open", "new_logo", "outbound", "2024-03-01"),
    ]
    history = rows(
        ws,
        "SELECT stage, CAST(entered_at AS VARCHAR) FROM opportunity_history "
        "WHERE opportunity_id = '0065e00000Op1AAAAZ' ORDER BY entered_at",
    )
    assert history == [
        ("prospecting", "2024-01-15 10:12:00"),
        ("proposal", "2024-02-12 15:40:00"),
        ("negotiation", "2024-03-01 09:05:00"),
    ]

    acts = {
        r[0]: r[1:]
        for r in rows(
            ws,
            "SELECT activity_id, type, duration_minutes, direction, account_id, contact_id, "
            "opportunity_id FROM activities",
        )
    }
    assert acts["00T5e00000Ta1AAAAZ"] == (
        "call",
        21.0,
        "outbound",
        "0015e00000Ab1AAAAZ",
        "0035e00000Cd1AAAAZ",
        "0065e00000Op1AAAAZ",
    )
    assert acts["00T5e00000Ta2AAAAZ"][0] == "email"
    assert acts["00T5e00000Ta4AAAAZ"][0] == "social"
    assert acts["00T5e00000Ta5AAAAZ"][0] == "task"
    # WhoId of a Lead (00Q...) is no contact; WhatId of an Account (001...) is no opportunity.
    assert acts["00T5e00000Ta6AAAAZ"][4] is None
    assert acts["00T5e00000Ta3AAAAZ"][3:] == ("0015e00000Ab5AAAAZ", None, None)
    assert acts["00U5e00000Ev2AAAAZ"][:2] == ("meeting", 90.0)
    assert summary.unknown_references == {}


def test_salesforce_reimport_changes_nothing(ws: Workspace) -> None:
    mapping = load_preset("salesforce")
    import_paths(ws, [FIXTURES / "salesforce"], mapping=mapping)
    again = import_paths(ws, [FIXTURES / "salesforce"], mapping=mapping)
    for name, c in again.entities.items():
        assert c.inserted == 0 and c.updated == 0, name


def test_salesforce_missing_column_is_refused(ws: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "export"
    src.mkdir()
    with (FIXTURES / "salesforce" / "Opportunity.csv").open(encoding="utf-8") as f:
        lines = f.read().replace('"StageName"', '"Stage"', 1)
    (src / "Opportunity.csv").write_text(lines, encoding="utf-8")
    shutil.copy(FIXTURES / "salesforce" / "Account.csv", src)
    with pytest.raises(MappingError, match=r"Opportunity\.csv: column 'StageName'"):
        import_paths(ws, [src], mapping=load_preset("salesforce"))
    assert rows(ws, "SELECT count(*) FROM accounts") == [(0,)]


# --- HubSpot ------------------------------------------------------------------------


def test_hubspot_imports_every_entity(ws: Workspace) -> None:
    summary = import_paths(ws, [FIXTURES / "hubspot"], mapping=load_preset("hubspot"))
    counts = {name: c.to_json() for name, c in summary.entities.items()}
    expected_read = {
        "reps": 5,
        "accounts": 5,
        "contacts": 4,
        "opportunities": 6,
        "opportunity_history": 9,
        "activities": 13,
    }
    assert {n: c["read"] for n, c in counts.items()} == expected_read
    assert counts["opportunities"]["rejected"] == 1
    assert sum(c["rejected"] for c in counts.values()) == 1

    # The deliberately bad row: a create date in a day-first format HubSpot never writes.
    [bad] = rejects(summary.rejects_file)
    assert bad["file"].endswith("deals-2024-03-12.csv")
    assert (bad["line"], bad["column"], bad["value"]) == ("7", "Create Date", "02/03/2024")

    # Owners are keys made from full names, the same in every file, even for a
    # deactivated user ("Dana Fox (Deactivated User)").
    reps = rows(ws, "SELECT rep_id, name FROM reps ORDER BY rep_id")
    assert reps == [
        ("carlos-mendes", "Carlos Mendes"),
        ("dana-fox", "Dana Fox"),
        ("jane-doe", "Jane Doe"),
        ("ravi-patel", "Ravi Patel"),
        ("émilie-roux", "Émilie Roux"),
    ]
    rep_ids = {r[0] for r in reps}
    owners = rows(
        ws,
        "SELECT owner_id FROM opportunities UNION SELECT owner_id FROM accounts "
        "UNION SELECT rep_id FROM activities",
    )
    assert {o for (o,) in owners} <= rep_ids
    assert summary.unknown_references == {}

    opps = rows(
        ws,
        "SELECT opportunity_id, account_id, owner_id, stage, status, kind, source "
        "FROM opportunities ORDER BY opportunity_id",
    )
    assert opps == [
        ("15001", "9001", "jane-doe", "negotiation", "open", "expansion", "referral"),
        ("15002", "9002", "carlos-mendes", "qualification", "open", "new_logo", "inbound"),
        ("15003", "9003", "dana-fox", "closed_won", "won", "renewal", "outbound"),
        ("15004", "9004", "ravi-patel", "prospecting", "open", "new_logo", "outbound"),
        ("15005", "9005", "ravi-patel", "closed_lost", "lost", "new_logo", "marketing"),
    ]
    assert rows(
        ws, "SELECT CAST(customer_since AS VARCHAR) FROM accounts WHERE account_id = '9001'"
    ) == [("2023-09-14",)]
    acts = {
        r[0]: r[1:]
        for r in rows(
            ws,
            "SELECT activity_id, type, CAST(started_at AS VARCHAR), duration_minutes, direction,"
            " account_id, contact_id, opportunity_id FROM activities",
        )
    }
    assert acts["30001"] == (
        "call",
        "2024-03-04 15:00:00",
        22.0,
        "outbound",
        "9001",
        "5101",
        "15001",
    )
    assert acts["40002"][0] == "email" and acts["40002"][3] == "inbound"
    assert acts["50002"] == ("meeting", "2024-03-12 10:00:00", 60.0, None, "9002", "5201", "15002")
    stages = rows(
        ws,
        "SELECT stage FROM opportunity_history WHERE opportunity_id = '15001' ORDER BY entered_at",
    )
    assert stages == [("prospecting",), ("proposal",), ("negotiation",)]
