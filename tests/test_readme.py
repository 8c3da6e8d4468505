"""Issue 20: the README stays true to the code (JSON keys, labels, commands, files)."""

from __future__ import annotations

import json
import re

from claims.types import Label
from pipeline.report._common import LABEL_LOOKS
from pipeline.report.json import dump_report
from tests.conftest import REPO
from tests.report.conftest import build_report

README = (REPO / "README.md").read_text(encoding="utf-8")
LABEL_VALUES = {label.value for label in Label}


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _json_paths(obj: object, prefix: str = "") -> set[str]:
    """Every key path of a JSON value, lists flattened, per-label keys folded into their parent."""
    paths: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in LABEL_VALUES:
                continue  # summary.labels.<label>, scores.<label>: documented as the parent
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= _json_paths(value, path)
    elif isinstance(obj, list):
        for value in obj:
            paths |= _json_paths(value, prefix)
    return paths


def _documented_paths() -> tuple[set[str], set[str]]:
    """Paths the JSON table names: (in its first column, anywhere in a row)."""
    named: set[str] = set()
    mentioned: set[str] = set()
    for line in _section("JSON report").splitlines():
        cells = line.split("|")[1:-1]
        if len(cells) != 2 or not cells[0].strip().startswith("`"):
            continue
        keys = re.findall(r"`([^`]+)`", cells[0])
        base = keys[0].replace("[]", "")
        parent = base.rsplit(".", 1)[0] if "." in base else ""
        for key in keys:
            path = f"{parent}{key}" if key.startswith(".") else key.replace("[]", "")
            named.add(path)
        for word in re.findall(r"`([A-Za-z_]+)`", cells[1]):
            mentioned.add(f"{base}.{word}")
    return named, named | mentioned


def test_issue_20_readme_json_table_lists_every_key_the_report_has() -> None:
    data = json.loads(dump_report(build_report()))
    paths = _json_paths(data)
    named, documented = _documented_paths()
    assert sorted(paths - documented) == []
    # And names no key the report does not have.
    assert sorted(named - paths) == []


def test_issue_20_readme_lists_every_label_with_its_marker() -> None:
    rows = dict(re.findall(r"^\| ([a-z-]+) \| `\[([A-Z])\]` \|", README, re.M))
    assert rows == {label.value: LABEL_LOOKS[label].letter for label in Label}


def test_issue_20_tests_are_the_command_after_the_install_command() -> None:
    commands = [
        line.split("#")[0].strip()
        for block in re.findall(r"```bash\n(.*?)```", README, re.S)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    install = commands.index('pip install -e ".[dev]"')
    assert commands[install + 1] == "python -m pytest"
    assert "\npython -m pytest\n" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_issue_20_files_and_pages_the_readme_names_exist() -> None:
    named = set(re.findall(r"\b((?:examples|docs)/[\w./-]+\.(?:md|txt|html))", README))
    assert "examples/vitamin-d-winter.md" in named
    for path in named:
        assert (REPO / path).is_file(), path
