"""Mapping files: every operation on small tables, validation errors, presets by name."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import ibis
import pytest

from wholejob.errors import MappingError
from wholejob.importing.dateformats import compile_format
from wholejob.importing.mapping import Route, load_mapping, load_preset, preset_names

HEAD = 'name = "test"\n'


def write_mapping(tmp_path: Path, body: str, name: str = "map.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return path


def one_route(tmp_path: Path, body: str, file: str = "data.csv") -> Route:
    mapping = load_mapping(write_mapping(tmp_path, body))
    routes = mapping.route(Path(file))
    assert len(routes) == 1
    return routes[0]


def run(route: Route, **columns: list[Any]) -> list[dict[str, Any]]:
    n = len(next(iter(columns.values())))
    raw = ibis.memtable({**columns, "_line": list(range(2, n + 2))})
    con = ibis.duckdb.connect()
    rows: list[dict[str, Any]] = con.to_pyarrow(route.apply(raw)).to_pylist()
    con.disconnect()
    return rows


ACCOUNTS = """
[[source]]
files = "data.csv"
entity = "accounts"
"""


def accounts_with(tmp_path: Path, extra: str) -> Route:
    return one_route(tmp_path, ACCOUNTS + '[source.columns]\naccount_id = "Id"\n' + extra)


# --- renames, constants, routing --------------------------------------------


def test_rename_constant_and_line(tmp_path: Path) -> None:
    route = accounts_with(tmp_path, 'name = "Name"\n[source.constants]\nregion = "EMEA"\n')
    rows = run(route, Id=["a1", " a2 "], Name=["Acme", ""])
    assert rows == [
        {"_line": 2, "account_id": "a1", "name": "Acme", "region": "EMEA"},
        {"_line": 3, "account_id": "a2", "name": None, "region": "EMEA"},
    ]
    assert route.entity == "accounts"
    assert route.label == "data.csv → accounts (test)"
    assert route.source_column("name") == "Name"
    assert route.source_column("region") is None


def test_headers_match_ignoring_case_and_alternatives(tmp_path: Path) -> None:
    route = accounts_with(tmp_path, 'name = ["Company name", "Name"]\n')
    rows = run(route, ID=["a1"], NAME=["Acme"])
    assert rows[0]["account_id"] == "a1" and rows[0]["name"] == "Acme"
    assert route.source_column("name") == "NAME"


def test_routing_globs_exclude_and_stems(tmp_path: Path) -> None:
    mapping = load_mapping(
        write_mapping(
            tmp_path,
            """
            [[source]]
            files = ["*deal*"]
            exclude = ["*history*"]
            entity = "deals"
            [source.columns]
            opportunity_id = "a"
            account_id = "b"
            owner_id = "c"
            created_on = "d"
            amount = "e"
            stage = "f"
            [[source]]
            files = ["Task"]
            entity = "activities"
            columns = {activity_id = "a", rep_id = "b", type = "c", started_at = "d"}
            """,
        )
    )
    assert [r.entity for r in mapping.route(Path("x/All-DEALS-2024.csv"))] == ["opportunities"]
    assert mapping.route(Path("deal-history.csv")) == []
    assert [r.entity for r in mapping.route(Path("task.PARQUET"))] == ["activities"]
    assert mapping.route(Path("Tasks.csv")) == []


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    route = accounts_with(tmp_path, 'name = "Name"\n')
    with pytest.raises(MappingError, match=r"data\.csv: column 'Name' \(for accounts\.name\)"):
        run(route, Id=["a1"])


def test_optional_column_may_be_missing(tmp_path: Path) -> None:
    route = one_route(
        tmp_path,
        ACCOUNTS
        + 'optional = ["Industry", "Country"]\n'
        + '[source.columns]\naccount_id = "Id"\nname = "Name"\nindustry = "Industry"\n'
        + '[source.derived.region]\ncoalesce = ["Country", "Name"]\n',
    )
    rows = run(route, Id=["a1"], Name=["Acme"])
    assert rows == [
        {"_line": 2, "account_id": "a1", "name": "Acme", "industry": None, "region": "Acme"}
    ]


# --- value maps ---------------------------------------------------------------

ACTIVITIES = """
[[source]]
files = "data.csv"
entity = "activities"
[source.columns]
activity_id = "Id"
rep_id = "Owner"
started_at = "When"
"""


def activities_with(tmp_path: Path, extra: str) -> Route:
    return one_route(tmp_path, ACTIVITIES + extra)


def base(n: int) -> dict[str, list[Any]]:
    return {"Id": [str(i) for i in range(n)], "Owner": ["r"] * n, "When": ["2024-03-05"] * n}


def test_value_map_ignores_case_and_passes_unknown_values(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "Kind"\n[source.values.type]\nmap = {Call = "call", "E-mail" = "email"}\n',
    )
    rows = run(route, **base(4), Kind=["CALL", " e-mail ", "Fax", ""])
    assert [r["type"] for r in rows] == ["call", "email", "Fax", None]


def test_value_map_default_and_empty_key(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "Kind"\ndirection = "Dir"\n'
        '[source.values.type]\nmap = {Call = "call"}\ndefault = "other"\n'
        '[source.values.direction]\nmap = {"" = "outbound", In = "inbound"}\ndefault = ""\n',
    )
    rows = run(route, **base(3), Kind=["Call", "Fax", ""], Dir=["", "in", "sideways"])
    assert [r["type"] for r in rows] == ["call", "other", None]
    assert [r["direction"] for r in rows] == ["outbound", "inbound", None]


# --- date formats ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("%m/%d/%Y", "3/5/2024", "2024-03-05T00:00:00"),
        ("%d.%m.%y %H:%M", "05.03.24 14:30", "2024-03-05T14:30:00"),
        ("%Y-%m-%dT%H:%M:%S.%f%z", "2024-03-05T14:30:00.000+0000", "2024-03-05T14:30:00.000+00:00"),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05T14:30:00Z", "2024-03-05T14:30:00+00:00"),
        ("%Y-%m-%d %H:%M", "2024-03-05 14:30", "2024-03-05T14:30:00"),
        ("%d %b %Y %I:%M %p", "5 Mar 2024 2:30 PM", "2024-03-05T14:30:00"),
        ("%B %d, %Y %I:%M %p", "March 5, 2024 12:05 am", "2024-03-05T00:05:00"),
        ("%m/%d/%Y", "2024-03-05", "2024-03-05"),  # no match: passes unchanged
        ("%m/%d/%Y", "13/45/2024", "2024-13-45T00:00:00"),  # shape matches; validation rejects
    ],
)
def test_timestamp_formats(tmp_path: Path, fmt: str, value: str, expected: str) -> None:
    route = activities_with(tmp_path, f'type = "Kind"\n[source.formats]\nstarted_at = "{fmt}"\n')
    rows = run(route, Id=["1"], Owner=["r"], When=[value], Kind=["call"])
    assert rows[0]["started_at"] == expected


def test_date_format_drops_time_and_tries_formats_in_order(tmp_path: Path) -> None:
    route = accounts_with(
        tmp_path,
        'name = "Name"\ncustomer_since = "Since"\n'
        '[source.formats]\ncustomer_since = ["%m/%d/%Y %H:%M", "%Y%m%d"]\n',
    )
    rows = run(route, Id=["1", "2", "3"], Name=["a"] * 3, Since=["3/5/2024 9:15", "20240305", ""])
    assert [r["customer_since"] for r in rows] == ["2024-03-05", "2024-03-05", None]


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%Y-%m", "needs a year, a month and a day"),
        ("%Y-%m-%d %Q", "%Q is not supported"),
        ("%Y-%m-%d %I:%M", "%I without %p"),
        ("%Y-%m-%d %", "lone %"),
    ],
)
def test_bad_formats_are_refused(fmt: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        compile_format(fmt)


# --- derived fields --------------------------------------------------------------


def test_template(tmp_path: Path) -> None:
    route = one_route(
        tmp_path,
        """
        [[source]]
        files = "data.csv"
        entity = "contacts"
        columns = {contact_id = "Id", account_id = "Acc"}
        [source.derived.name]
        template = "{First Name} {Last}"
        """,
    )
    rows = run(
        route,
        Id=["1", "2", "3"],
        Acc=["a"] * 3,
        **{"First Name": ["Ada", None, ""]},
        Last=["Lovelace", "Hopper", ""],
    )
    assert [r["name"] for r in rows] == ["Ada Lovelace", "Hopper", None]


def test_template_as_key(tmp_path: Path) -> None:
    route = accounts_with(
        tmp_path,
        'name = "Name"\n[source.derived.owner_id]\ntemplate = "{Owner}"\nas_key = true\n',
    )
    owners = ["Jane Doe", "  jane   DOE ", "Jane Doe (Deactivated User)", "José O'Neil", ""]
    rows = run(route, Id=list("abcde"), Name=list("abcde"), Owner=owners)
    assert [r["owner_id"] for r in rows] == ["jane-doe"] * 3 + ["josé-o-neil", None]


def test_coalesce(tmp_path: Path) -> None:
    route = accounts_with(tmp_path, '[source.derived.name]\ncoalesce = ["Legal", "Short"]\n')
    rows = run(
        route, Id=["1", "2", "3"], Legal=["Acme Inc", " ", None], Short=["Acme", "Bolt", None]
    )
    assert [r["name"] for r in rows] == ["Acme Inc", "Bolt", None]


def test_when_conditions_in_order(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        """
        [source.derived.type]
        column = "Subtype"
        when = [
          { equals = "Call", value = "call" },
          { in = ["Email", "ListEmail"], value = "email" },
          { column = "Subject", startswith = ["LinkedIn", "InMail"], value = "social" },
          { column = "Subject", contains = "meeting", value = "meeting" },
          { empty = true, value_from = "Fallback" },
        ]
        else = "task"
        """,
    )
    rows = run(
        route,
        **base(6),
        Subtype=["CALL", "listemail", "Task", "Task", None, "Task"],
        Subject=["x", "x", "linkedin note", "Team Meeting", "x", "x"],
        Fallback=["", "", "", "", "other", ""],
    )
    assert [r["type"] for r in rows] == ["call", "email", "social", "meeting", "other", "task"]


def test_when_without_else_gives_empty(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "T"\n[source.derived.direction]\nwhen = [{column = "D", equals = "out", '
        'value = "outbound"}]\n',
    )
    rows = run(route, **base(2), T=["call", "call"], D=["OUT", "in"])
    assert [r["direction"] for r in rows] == ["outbound", None]


def test_duration_from_seconds_milliseconds_and_hms(tmp_path: Path) -> None:
    for spec, values, expected in [
        ("seconds", ["90", "", "n/a"], ["1.5", None, "n/a"]),
        ("milliseconds", ["1320000", "45000", ""], ["22.0", "0.75", None]),
        ("hms", ["00:05:30", "1:00:00", "07:15"], ["5.5", "60.0", "7.25"]),
    ]:
        route = activities_with(
            tmp_path,
            f'type = "T"\n[source.derived.duration_minutes]\n'
            f'duration_minutes = {{ {spec} = "Dur" }}\n',
        )
        rows = run(route, **base(3), T=["call"] * 3, Dur=values)
        assert [r["duration_minutes"] for r in rows] == expected, spec


def test_duration_between_timestamps(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "T"\n[source.derived.duration_minutes]\n'
        'duration_minutes = { start = "When", end = "End", formats = "%m/%d/%Y %H:%M%z" }\n',
    )
    rows = run(
        route,
        Id=["1", "2", "3"],
        Owner=["r"] * 3,
        When=["3/5/2024 14:00+0100", "3/5/2024 14:00+0000", "bad"],
        End=["3/5/2024 14:45+0100", "3/5/2024 14:00-0130", "3/5/2024 15:00+0000"],
        T=["meeting"] * 3,
    )
    assert [r["duration_minutes"] for r in rows] == ["45.0", "90.0", None]


def test_prefix_id(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "T"\n'
        '[source.derived.opportunity_id]\nprefix_id = { column = "WhatId", prefix = "006" }\n'
        "[source.derived.account_id]\n"
        'prefix_id = { column = ["AccountId", "WhatId"], prefix = "001" }\n',
    )
    rows = run(
        route,
        **base(3),
        T=["call"] * 3,
        WhatId=["006A", "001B", None],
        AccountId=["", "", "001C"],
    )
    assert [(r["opportunity_id"], r["account_id"]) for r in rows] == [
        ("006A", None),
        (None, "001B"),
        (None, "001C"),
    ]


def test_first_item(tmp_path: Path) -> None:
    route = activities_with(
        tmp_path,
        'type = "T"\n[source.derived.account_id]\nfirst_item = { column = "Companies" }\n',
    )
    rows = run(route, **base(3), T=["call"] * 3, Companies=["9002;9001", "9003", ""])
    assert [r["account_id"] for r in rows] == ["9002", "9003", None]


def test_value_map_and_format_apply_after_derivation(tmp_path: Path) -> None:
    route = accounts_with(
        tmp_path,
        'name = "Name"\n[source.derived.customer_since]\n'
        'when = [{column = "Type", startswith = "Customer", value_from = "Created"}]\n'
        '[source.formats]\ncustomer_since = "%d/%m/%Y"\n',
    )
    rows = run(
        route,
        Id=["1", "2"],
        Name=["a", "b"],
        Type=["Customer - Direct", "Prospect"],
        Created=["05/03/2021", "06/03/2021"],
    )
    assert [r["customer_since"] for r in rows] == ["2021-03-05", None]


# --- validation of mapping files ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('[[source]]\nfiles = "a"\nentity = "widgets"\n', "source.0.entity", "unknown entity"),
        (
            ACCOUNTS + 'columns = {account_id = "Id", nme = "N"}\n',
            "source.0",
            "accounts has no column 'nme'",
        ),
        (ACCOUNTS + 'columns = {account_id = "Id"}\n', "source.0", "needs name"),
        (
            ACCOUNTS + 'columns = {account_id = "Id", name = "N"}\nconstants = {name = "x"}\n',
            "source.0",
            "name is already made by columns",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id", name = "N"}\nformats = {name = "%Y-%m-%d"}\n',
            "source.0",
            "not a date or timestamp column",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id", name = "N", customer_since = "S"}\n'
            'formats = {customer_since = "%Y-%m-%d %Q"}\n',
            "source.0",
            "%Q is not supported",
        ),
        (
            ACCOUNTS
            + 'columns = {account_id = "Id", name = "N"}\nvalues = {region = {map = {}}}\n',
            "source.0",
            "region is not mapped",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id"}\n[source.derived.name]\n'
            'template = "{A}"\ncoalesce = ["B"]\n',
            "source.0.derived.name",
            "exactly one operation",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id"}\n[source.derived.name]\n'
            'when = [{column = "A", equals = "x"}]\n',
            "source.0.derived.name.when.0",
            "exactly one of value, value_from",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id"}\n[source.derived.name]\n'
            'when = [{equals = "x", value = "y"}]\n',
            "source.0.derived.name",
            "no column",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id", name = "N"}\n[source.derived.region]\n'
            'duration_minutes = {start = "A"}\n',
            "source.0.derived.region.duration_minutes",
            "start and end go together",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id"}\n[source.derived.name]\ntemplate = "plain"\n',
            "source.0.derived.name.template",
            "names no {column}",
        ),
        (
            ACCOUNTS + 'columns = {account_id = "Id", name = "N"}\nextra = 1\n',
            "source.0.extra",
            "Extra inputs are not permitted",
        ),
        ("[[source]]\n", "source.0.files", "Field required"),
    ],
)
def test_invalid_mapping_names_file_and_key(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = write_mapping(tmp_path, body)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}"), message
    assert problem in message


def test_mapping_file_problems(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"bad\.toml: not valid TOML"):
        load_mapping(bad)
    empty = tmp_path / "empty.toml"
    empty.write_text('name = "x"\n', encoding="utf-8")
    with pytest.raises(MappingError, match=r"empty\.toml: source: Field required"):
        load_mapping(empty)


# --- presets ----------------------------------------------------------------------------


def test_presets_are_listed_and_load() -> None:
    assert preset_names() == ["hubspot", "salesforce"]
    for name in preset_names():
        mapping = load_preset(name)
        assert mapping.name == name


def test_unknown_preset_lists_presets() -> None:
    with pytest.raises(
        MappingError, match=r"unknown preset 'pipedrive' \(presets: hubspot, salesforce\)"
    ):
        load_preset("pipedrive")


def test_docs_contract_tables_match_schema() -> None:
    from wholejob.schema import ENTITIES

    docs = (Path(__file__).parents[1] / "docs" / "importing.md").read_text(encoding="utf-8")
    for name, ent in ENTITIES.items():
        section = docs.split(f"### `{name}`\n", 1)[1].split("\n#", 1)[0]
        table = [
            [cell.strip() for cell in line.strip("|").split(" | ")]
            for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| column")
        ]
        documented = [(r[0], r[1], r[2] == "yes") for r in table]
        assert documented == [(c.name, c.dtype, c.required) for c in ent.columns], name
