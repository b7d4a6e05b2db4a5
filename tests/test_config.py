"""Workspace configuration: defaults, round trip, and errors that name file and key."""

from __future__ import annotations

import pytest

from wholejob.config import DEFAULT_STAGES, WorkspaceConfig, load_config, save_config
from wholejob.errors import ConfigError


def test_missing_file_gives_defaults(tmp_path):
    cfg = load_config(tmp_path / "wholejob.toml")
    assert cfg == WorkspaceConfig()
    assert cfg.stages == DEFAULT_STAGES
    assert cfg.open_stages[0] == "prospecting"


def test_round_trip(tmp_path):
    cfg = WorkspaceConfig(currency="EUR", timezone="Europe/Berlin", week_start="sunday")
    save_config(cfg, tmp_path / "c.toml")
    assert load_config(tmp_path / "c.toml") == cfg


def test_stage_aliases_resolve_case_insensitively():
    lookup = WorkspaceConfig().stage_lookup()
    assert lookup["closed won"] == "closed_won"
    assert lookup["negotiation/review"] == "negotiation"
    assert lookup["closedlost"] == "closed_lost"
    assert WorkspaceConfig().stage_status()["closed_lost"] == "lost"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('currency = "dollars"', "currency: String should match pattern"),
        ('timezone = "Mars/Olympus"', "timezone: unknown time zone 'Mars/Olympus'"),
        ('week_start = "friday"', "week_start: Input should be 'monday' or 'sunday'"),
        ("colour = 3", "colour: Extra inputs are not permitted"),
        ("[icp]\nmin_employees = -5", "icp.min_employees: Input should be greater than"),
        (
            '[[stages]]\nname = "open"\nstatus = "open"',
            "at least one open, one won and one lost stage",
        ),
        (
            '[[stages]]\nname = "a"\nstatus = "open"\naliases = ["X"]\n'
            '[[stages]]\nname = "b"\nstatus = "won"\naliases = ["x"]\n'
            '[[stages]]\nname = "c"\nstatus = "lost"',
            "alias 'x' is used by both 'a' and 'b'",
        ),
        ("currency = ", "not valid TOML"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path, text, message):
    path = tmp_path / "wholejob.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_config_error_reaches_cli_as_one_line(tmp_path):
    from typer.testing import CliRunner

    from wholejob.cli.app import app

    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "wholejob.toml").write_text('timezone = "Nowhere/Land"')
    result = CliRunner().invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "timezone: unknown time zone 'Nowhere/Land'" in result.output
