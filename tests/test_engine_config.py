"""Engine URLs and the [engine] section of wholejob.toml (no engine is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wholejob.config import load_config
from wholejob.engine import EngineSpec, parse_engine_url
from wholejob.errors import ConfigError


@pytest.mark.parametrize(("url", "spec"), [
    ("duckdb", EngineSpec("duckdb")),
    ("duckdb://", EngineSpec("duckdb")),
    ("spark", EngineSpec("spark", "local[*]")),
    ("spark://local", EngineSpec("spark", "local")),
    ("spark://local[3]", EngineSpec("spark", "local[3]")),
    ("spark://local[*]", EngineSpec("spark", "local[*]")),
    ("spark://master.example.com:7077", EngineSpec("spark", "spark://master.example.com:7077")),
])
def test_accepted_urls(url: str, spec: EngineSpec) -> None:
    assert parse_engine_url(url) == spec


@pytest.mark.parametrize("url", ["", "postgres://x", "spark://local[two]", "spark://host",
                                 "duckdb:///tmp/x.db"])
def test_unknown_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError, match=r"unknown engine URL .*spark://local\[N\]"):
        parse_engine_url(url)


def test_engine_section_and_short_form(tmp_path: Path) -> None:
    p = tmp_path / "wholejob.toml"
    p.write_text('[engine]\nurl = "spark://local[2]"\n[engine.tables]\n'
                 'activities = "crm.tasks"\n[engine.options]\n"spark.driver.memory" = "2g"\n')
    cfg = load_config(p)
    assert cfg.engine.url == "spark://local[2]"
    assert cfg.engine.tables == {"activities": "crm.tasks"}
    assert cfg.engine.options == {"spark.driver.memory": "2g"}
    p.write_text('engine = "spark://local[2]"\n')
    assert load_config(p).engine.url == "spark://local[2]"


@pytest.mark.parametrize(("text", "message"), [
    ('[engine]\nurl = "mysql://db"\n', "engine.url"),
    ('[engine.tables]\ncalls = "crm.calls"\n', "unknown entity calls"),
])
def test_bad_engine_section_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "wholejob.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message) as e:
        load_config(p)
    assert str(p) in str(e.value)
