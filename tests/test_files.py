"""pipeline.files: atomic file and directory replacement on a real file system."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from pipeline.files import (
    append_durably,
    atomic_write_bytes,
    atomic_write_text,
    replacing_dir,
    temp_target,
)


@pytest.mark.parametrize("text", ["", "one line\n", "naïve – ünïcode\r\nkept as given"])
def test_atomic_write_text_replaces_and_leaves_no_temp(tmp_path: Path, text: str) -> None:
    path = tmp_path / "report.md"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, text)
    assert path.read_bytes() == text.encode("utf-8")
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_atomic_write_into_a_missing_directory_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "missing" / "a.json", b"{}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a1b2.json", "report.html", "x.tar.gz"])
def test_temp_target_names_the_file_a_real_temp_file_was_for(tmp_path: Path, name: str) -> None:
    # The temp name as atomic_write_bytes makes it.
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=tmp_path)
    os.close(fd)
    assert temp_target(Path(tmp).name) == name


@pytest.mark.parametrize("name", ["a.json", ".hidden", ".tmp", "..tmp", "a.json.tmp", ".x.tmp"])
def test_temp_target_ignores_other_names(name: str) -> None:
    assert temp_target(name) is None


def test_append_durably_appends(tmp_path: Path) -> None:
    path = tmp_path / "index.jsonl"
    for line in ("a", "b"):
        append_durably(path, f"{line}\n".encode())
    assert path.read_text() == "a\nb\n"


def test_replacing_dir_swaps_in_a_whole_directory(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with replacing_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
        assert (target / "old.txt").exists()  # untouched until the block ends
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_replacing_dir_leaves_the_old_directory_when_filling_fails(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), replacing_dir(target) as tmp:
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("training crashed")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_feed_scan_cleanup_recognises_write_report_temp_files(tmp_path: Path) -> None:
    # remove_temp_files must find what write_report leaves when killed mid-write, without
    # hard-coding its name: make one the way write_report does and let cleanup find it.
    from pipeline.feedscan.output import remove_temp_files

    name = "0123456789abcdef0123.json"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=tmp_path)
    os.close(fd)
    other = tmp_path / ".notes.txt.abcdefgh.tmp"
    other.write_text("not ours")
    remove_temp_files(tmp_path)
    assert not Path(tmp).exists() and other.exists()
