"""Durable writes: files and directories replaced atomically, and fsync. Disk I/O.

Every report, index line and model directory claimscan writes goes through here, so a
reader (or a run killed half-way) sees either the old content or the new, never half.

A file is written to a temporary sibling named ``.<name>.<random>.tmp``, flushed,
fsynced, renamed over the target, and the directory fsynced so the rename survives a
power cut. :func:`temp_target` recognises those names, for cleaning up after a killed
run. Errors are ``OSError``; callers say what failed in their own terms.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "TEMP_SUFFIX",
    "append_durably",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_dir",
    "replace_dir",
    "replacing_dir",
    "temp_target",
]

TEMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    """Make renames and new names in ``directory`` durable (POSIX; a no-op elsewhere).

    Raises:
        OSError: The directory cannot be opened or synced.
    """
    # Directories cannot be opened for fsync on Windows.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _default_mode(path: Path) -> int:
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777
    # os.umask can only be read by setting it; restore it at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably.

    The file keeps the mode of the one it replaces (else a plain ``open()``'s), and a
    failure leaves any old file untouched and no temporary file behind.

    Raises:
        OSError: The directory is missing or not writable, or the disk is full.
    """
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would.
        os.chmod(tmp, _default_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    # The new content is in place; the rename's durability is best effort, as a
    # directory that cannot be opened for reading must not fail a finished write.
    with contextlib.suppress(OSError):
        fsync_dir(directory)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text, newlines written as given."""
    atomic_write_bytes(path, text.encode("utf-8"))


def temp_target(name: str) -> str | None:
    """The file name a temporary file of :func:`atomic_write_bytes` was made for, or None.

    ``".a1b2.json.k3j_x9q0.tmp"`` gives ``"a1b2.json"``; the random part never holds a dot.
    """
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    stem = name[1 : -len(TEMP_SUFFIX)]
    target, dot, random_part = stem.rpartition(".")
    return target if dot and target and random_part else None


def append_durably(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` and fsync it (and the directory, for a new file).

    Raises:
        OSError: The file cannot be opened, written or synced.
    """
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def replace_dir(new: Path, target: Path) -> None:
    """Put directory ``new`` in the place of ``target`` (which may not exist) by renames.

    The old directory is moved aside first and removed after, so ``target`` is missing
    only between two renames, never half-written. ``new`` must be on the same file
    system as ``target``.

    Raises:
        OSError: A rename failed; ``target`` is then left as it was where possible.
    """
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        fsync_dir(target.parent)


@contextlib.contextmanager
def replacing_dir(target: Path) -> Iterator[Path]:
    """Yield an empty sibling directory to fill; it replaces ``target`` when the block ends.

    If the block raises, the sibling is removed and ``target`` is untouched.

    Raises:
        OSError: The sibling cannot be made or swapped in.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, target)
