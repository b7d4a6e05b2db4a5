"""Every CLI command is documented in the README and has help text."""

from __future__ import annotations

import os
from pathlib import Path

import typer.main

from wholejob.cli.app import app

README = (Path(__file__).parents[1] / "README.md").read_text()


def _commands() -> dict[str, object]:
    group = typer.main.get_group(app)
    return dict(group.commands)


def test_every_command_is_in_the_readme():
    missing = [name for name in _commands() if f"`wholejob {name}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_command_has_help_and_every_option_too():
    for name, cmd in _commands().items():
        assert cmd.help, f"`wholejob {name}` has no help text"
        for param in cmd.params:
            if param.param_type_name == "option" and param.name not in {"help"}:
                assert getattr(param, "help", None), f"`wholejob {name}` {param.name}: no help"


def test_python_dash_m_runs_the_same_command(tmp_path):
    # `python -m wholejob` is the fallback when the console script is not on PATH.
    import subprocess
    import sys

    import wholejob

    env = {**os.environ, "PYTHONPATH": str(Path(wholejob.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-m", "wholejob", "--version"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"wholejob {wholejob.__version__}"
    bad = subprocess.run([sys.executable, "-m", "wholejob", "report", "-w", str(tmp_path / "no")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
                         check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
