"""``claimscan pubmed`` against the local E-utilities server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.eutils_server import EutilsServer, Record, Scripted

RECORDS = [
    Record("1", "Vitamin D and [bold]falls[/bold]", ("Falls fell.",), year=2001),
    Record("2", "Vitamin D again", ("Nothing.",), retracted=True),
]


@pytest.mark.parametrize(("args", "rows"), [(["vitamin"], 2), (["--retmax", "1", "vitamin"], 1)])
def test_cli_pubmed_prints_count_translation_titles(args: list[str], rows: int) -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        result = CliRunner().invoke(
            cli, ["pubmed", "--eutils-url", server.base_url, "--no-cache", *args]
        )
    assert result.exit_code == 0, result.output
    assert "count: 2" in result.output
    assert "vitamin[All Fields]" in result.output
    assert "Vitamin D again [RETRACTED]" in result.output
    assert sum(line.startswith("│ ") for line in result.output.splitlines()) == rows


def test_cli_pubmed_titles_are_not_markup() -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        result = CliRunner().invoke(
            cli, ["pubmed", "--eutils-url", server.base_url, "--no-cache", "falls"]
        )
    assert "Vitamin D and [bold]falls[/bold]" in result.output
    assert "2001" in result.output


def test_cli_pubmed_claim_shows_concepts_and_one_term() -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        result = CliRunner().invoke(
            cli,
            [
                "pubmed",
                "--eutils-url",
                server.base_url,
                "--no-cache",
                "--claim",
                "Vitamin D prevents falls in older adults.",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "concepts: vitamin d; prevents; falls; older; adults" in result.output
    assert result.output.count("term: ") == 1
    assert '"vitamin d"[tiab]' in result.output


def test_cli_pubmed_error_is_one_line_exit_1() -> None:
    with EutilsServer(RECORDS, enforce_rate=False) as server:
        server.script("esearch.fcgi", Scripted(400, b"bad"))
        result = CliRunner().invoke(
            cli, ["pubmed", "--eutils-url", server.base_url, "--no-cache", "vitamin"]
        )
    assert result.exit_code == 1
    assert "esearch for term='vitamin' returned HTTP 400" in result.output
