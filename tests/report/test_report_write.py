"""write_report (atomic files, stdout) and the ``claimscan render`` command."""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from claims.types import Report
from pipeline.cli import cli
from pipeline.errors import ReportError
from pipeline.report import FORMATS, RENDERERS, write_report
from pipeline.report.html import render_html
from pipeline.report.json import dump_report, load_report
from pipeline.report.markdown import render_markdown


def _nan_report(report: Report) -> Report:
    doc = report.documents[0]
    bad = replace(doc.claims[0], verdict=replace(doc.claims[0].verdict, confidence=float("nan")))
    return replace(report, documents=(replace(doc, claims=(bad,)),))


@pytest.mark.parametrize("fmt", FORMATS)
def test_renderers_share_one_signature(report: Report, fmt: str) -> None:
    out = io.StringIO()
    RENDERERS[fmt](report, out, color=False)
    assert out.getvalue()
    assert "\x1b" not in out.getvalue().replace("\\u001b", "")


@pytest.mark.parametrize(
    ("fmt", "render"),
    [("json", dump_report), ("html", render_html), ("markdown", render_markdown)],
)
def test_write_report_to_path(tmp_path: Path, report: Report, fmt: str, render) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / f"report.{fmt}"
    write_report(report, fmt, target)
    assert target.read_text(encoding="utf-8") == render(report)
    assert os.listdir(tmp_path) == [target.name]
    assert target.stat().st_mode & 0o777 != 0o600


def test_write_report_jsonl_one_claim_per_line(tmp_path: Path, report: Report) -> None:
    target = tmp_path / "claims.jsonl"
    write_report(report, "jsonl", str(target))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [
        c.claim.id for d in report.documents for c in d.claims
    ]


def test_write_report_failure_keeps_old_file(tmp_path: Path, report: Report) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ReportError):
        write_report(_nan_report(report), "json", target)
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_report_missing_directory(tmp_path: Path, report: Report) -> None:
    with pytest.raises(ReportError, match="cannot write report to .*missing"):
        write_report(report, "json", tmp_path / "missing" / "report.json")


def test_write_report_unknown_format(report: Report) -> None:
    with pytest.raises(ReportError, match="unknown report format 'pdf'; choose one of terminal"):
        write_report(report, "pdf", None)


def test_write_report_stdout(report: Report, capsys: pytest.CaptureFixture[str]) -> None:
    write_report(report, "markdown", None)
    assert capsys.readouterr().out == render_markdown(report)


def test_write_report_terminal_uses_given_console(report: Report) -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    write_report(report, "terminal", "-", console=console)
    assert isinstance(console.file, io.StringIO)
    assert "[P3]" in console.file.getvalue()


@pytest.fixture
def saved(tmp_path: Path, report: Report) -> Path:
    path = tmp_path / "report.json"
    path.write_text(dump_report(report), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["json", "html", "markdown", "terminal"])
def test_render_cli_writes_file(tmp_path: Path, saved: Path, report: Report, fmt: str) -> None:
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(cli, ["render", str(saved), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    # Nothing on stdout; stderr says where the report went.
    assert result.stdout == "" and result.stderr == f"report written to {out}\n"
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert load_report(text) == report
    else:
        assert "[C2]" in text


def test_render_cli_stdout_and_stdin(saved: Path, report: Report) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["render", "-", "--format", "html"], input=saved.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.output == render_html(report)
    result = runner.invoke(cli, ["render", str(saved)])
    assert result.exit_code == 0, result.output
    assert "PMID 28202713" in result.output
    result = runner.invoke(cli, ["render", str(saved), "--details"])
    assert result.exit_code == 0, result.output
    assert "https://pubmed.ncbi.nlm.nih.gov/28202713/" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>", "invalid JSON"),
        (b'{"schema_version": 7}', "schema_version 7"),
    ],
)
def test_render_cli_bad_report(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["render", str(path)])
    # An unusable input, as for check: nothing rendered, exit status 2, one line.
    assert result.exit_code == 2
    assert message in result.output and result.output.startswith("claimscan: ")
    assert "Traceback" not in result.output


def test_render_cli_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["render", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read report" in result.output


def test_render_cli_help_has_example() -> None:
    result = CliRunner().invoke(cli, ["render", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "claimscan render report.json --format html" in result.output
