"""Checks on the project itself: import boundaries, help texts, README coverage."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import REPO


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        out.append((full, cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, full + " "))
    return out


def test_claims_core_imports_no_io_libraries() -> None:
    code = (
        "import sys, claims, claims.split, claims.verdict, claims.query;"
        "io = {'httpx', 'rich', 'transformers', 'torch', 'feedparser', 'click'};"
        "bad = io & set(sys.modules);"
        "print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_does_not_import_torch() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from pipeline.cli import cli;"
        "CliRunner().invoke(cli, ['--help']); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "command"), _commands(cli))
def test_every_command_has_help_and_is_in_readme(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert (command.help or "").strip()
    assert f"claimscan {name}" in (REPO / "README.md").read_text()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "claimscan" in result.output


def test_version_is_written_once() -> None:
    # pyproject.toml reads pipeline.__version__ (hatch's dynamic version); the installed
    # metadata, --version and the User-Agent must all say the same.
    import importlib.metadata
    import tomllib

    from pipeline import __version__
    from pipeline.config import Config

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("claimscan") == __version__
    assert CliRunner().invoke(cli, ["--version"]).output.split()[-1] == __version__
    assert Config().user_agent.startswith(f"claimscan/{__version__} ")
