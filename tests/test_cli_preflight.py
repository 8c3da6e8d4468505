"""Issue 20: unusable inputs and output paths fail before any model loads or request goes out.

Each case runs the real CLI with a stance model that cannot be loaded and a local
E-utilities server that logs every request: had the command got as far as loading
models or searching, it would fail differently (exit 1, a model error) or leave a
request in the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.eutils_server import EutilsServer

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(scope="module")
def server() -> Iterator[EutilsServer]:
    with EutilsServer([]) as s:
        yield s


def _run(server: EutilsServer, args: list[str], stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli,
        [*args, "--eutils-url", server.base_url, "--no-cache", "--quiet"],
        input=stdin,
        # A model path that does not exist: loading it would fail with exit 1.
        env={"CLAIMSCAN_STANCE_MODEL": "/nonexistent/stance-model"},
    )


def _files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty": tmp_path / "empty.txt",
        "blank": tmp_path / "blank.md",
        "pdf": tmp_path / "scan.pdf",
        "nul": tmp_path / "data.bin",
        "good": tmp_path / "good.txt",
    }
    files["empty"].write_bytes(b"")
    files["blank"].write_text("  \n\n\t\n")
    files["pdf"].write_bytes(PDF)
    files["nul"].write_bytes(b"text\x00with\x00nul bytes" * 10)
    files["good"].write_text("Exercise therapy reduces chronic low back pain.\n")
    return files


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing", "{path} does not exist; give a file, URL or -"),
        ("directory", "{path} is a directory; give a file, URL or -"),
        ("empty", "{path}: the content is empty; nothing to check"),
        ("blank", "{path}: the content is empty; nothing to check"),
        ("pdf", "{path}: the content is a PDF, not text, HTML or a feed"),
        ("nul", "{path}: the content is binary, not text, HTML or a feed"),
    ],
)
def test_issue_20_check_refuses_unusable_input_first(
    server: EutilsServer, tmp_path: Path, name: str, message: str
) -> None:
    files = _files(tmp_path)
    path = {"missing": tmp_path / "missing.txt", "directory": tmp_path}.get(name) or files[name]
    before = len(server.log)
    result = _run(server, ["check", str(path)])
    assert result.exit_code == 2, result.output
    # One line, the path named once.
    assert result.stderr == f"claimscan: {message.format(path=path)}\n"
    assert result.stderr.count(str(path)) == 1
    assert result.stdout == ""
    assert len(server.log) == before


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "{tmp}/no-such-dir/r.html",
            "cannot write the report to {tmp}/no-such-dir/r.html: the directory does not exist; "
            "create it or choose another --output",
        ),
        ("{tmp}", "cannot write the report to {tmp}: it is a directory"),
        (
            "{tmp}/good.txt/r.html",
            "cannot write the report to {tmp}/good.txt/r.html: the directory is not a "
            "directory; create it or choose another --output",
        ),
    ],
)
def test_issue_20_check_refuses_an_unwritable_output_first(
    server: EutilsServer, tmp_path: Path, output: str, message: str
) -> None:
    files = _files(tmp_path)
    before = len(server.log)
    out = output.format(tmp=tmp_path)
    result = _run(server, ["check", str(files["good"]), "--format", "html", "-o", out])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"claimscan: {message.format(tmp=tmp_path)}\n"
    assert len(server.log) == before


def test_issue_20_every_problem_is_one_line(server: EutilsServer, tmp_path: Path) -> None:
    files = _files(tmp_path)
    args = ["check", str(tmp_path / "a.txt"), str(files["good"]), str(files["pdf"])]
    result = _run(server, [*args, "-o", str(tmp_path / "nodir" / "r.json")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("claimscan: ") for line in lines)
    assert "a.txt does not exist" in lines[0] and "scan.pdf" in lines[1]
    assert "nodir" in lines[2]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"", "stdin (-): the content is empty; nothing to check"),
        (PDF, "stdin (-): the content is a PDF, not text, HTML or a feed"),
    ],
)
def test_issue_20_check_refuses_empty_or_binary_stdin(
    server: EutilsServer, stdin: bytes, message: str
) -> None:
    result = _run(server, ["check", "-"], stdin=stdin)
    assert result.exit_code == 2
    assert result.stderr == f"claimscan: {message}\n"


def test_issue_20_check_refuses_other_schemes(server: EutilsServer) -> None:
    result = _run(server, ["check", "file:///etc/passwd"])
    assert result.exit_code == 2
    assert result.stderr == (
        "claimscan: file:///etc/passwd: only http(s) URLs, local paths and - (stdin) are accepted\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["claim", "Coffee is good.", " "], "claim:2 is empty"),
        (["claim", "--from-file", "{tmp}/missing.txt"], "{tmp}/missing.txt does not exist"),
        (["claim", "--from-file", "{tmp}/empty.txt"], "{tmp}/empty.txt: the content is empty"),
        (["claim", "--from-file", "{tmp}/scan.pdf"], "{tmp}/scan.pdf: the content is a PDF"),
        (
            ["claim", "Coffee is good.", "-o", "{tmp}/nodir/v.jsonl"],
            "cannot write the report to {tmp}/nodir/v.jsonl",
        ),
    ],
)
def test_issue_20_claim_refuses_unusable_input_first(
    server: EutilsServer, tmp_path: Path, args: list[str], message: str
) -> None:
    _files(tmp_path)
    before = len(server.log)
    result = _run(server, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"claimscan: {message.format(tmp=tmp_path)}")
    assert len(server.log) == before


def test_issue_20_render_refuses_an_unwritable_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["render", str(tmp_path / "r.json"), "-o", str(tmp_path / "x" / "r.html")]
    )
    assert result.exit_code == 2
    assert "the directory does not exist" in result.stderr
