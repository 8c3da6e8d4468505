"""Labelled (claim, evidence, stance) pairs from the public fact-checking datasets.

Reads dataset files from a data directory laid out like ``shared/data`` (see its
README); everything after reading is pure.

Each loader turns one dataset into :class:`StancePair` records in the NLI shape the
stance model is trained on:

- SciFact and HealthVer (MultiVerS format): every rationale set becomes a supports or
  refutes pair (its sentences joined in abstract order); the other sentences of the
  claim's cited or candidate abstracts, and all sentences cited for NEI claims, become
  neutral pairs.
- Check-COVID: the evidence set becomes one pair labelled with the claim's label
  (NOTENOUGHINFO is neutral); the abstract's other sentences are neutral.
- COVID-Fact: ``entailment`` is supports and ``not_entailment`` refutes. It has no
  neutral class.

Validation pairs are carved out by claim (:func:`is_validation_claim`), so a claim's
pairs are all on one side of the split whatever dataset they come from.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claims.types import Stance
from pipeline.errors import ConfigError

VALIDATION_MODULUS = 10
"""One claim in this many (by hash of its normalised text) goes to the validation split."""

SOURCES = ("scifact", "healthver", "checkcovid", "covidfact")
"""Training sets, in the order they are read. HealthFC is missing on purpose: its licence
(CC BY-NC-ND) allows evaluation only."""

_LABELS: dict[str, Stance] = {
    "support": Stance.SUPPORTS,
    "supports": Stance.SUPPORTS,
    "supported": Stance.SUPPORTS,
    "entailment": Stance.SUPPORTS,
    "contradict": Stance.REFUTES,
    "contradiction": Stance.REFUTES,
    "refute": Stance.REFUTES,
    "refutes": Stance.REFUTES,
    "refuted": Stance.REFUTES,
    "not_entailment": Stance.REFUTES,
    "neutral": Stance.NEUTRAL,
    "nei": Stance.NEUTRAL,
    "notenoughinfo": Stance.NEUTRAL,
    "not enough info": Stance.NEUTRAL,
}


# Direction words and their opposites, for counterfactual refutations: a supported
# claim with its one direction word reversed is refuted by the same evidence.
_DIRECTION_PAIRS = (
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("increased", "decreased"),
    ("increasing", "decreasing"),
    ("reduce", "increase"),
    ("reduces", "increases"),
    ("reduced", "increased"),
    ("reducing", "increasing"),
    ("higher", "lower"),
    ("greater", "smaller"),
    ("raises", "lowers"),
    ("raised", "lowered"),
    ("improve", "worsen"),
    ("improves", "worsens"),
    ("improved", "worsened"),
    ("promote", "inhibit"),
    ("promotes", "inhibits"),
    ("promoted", "inhibited"),
    ("enhances", "impairs"),
    ("enhanced", "impaired"),
    ("positively", "negatively"),
)
_OPPOSITE: dict[str, str] = {}
for _a, _b in _DIRECTION_PAIRS:
    _OPPOSITE.setdefault(_a, _b)
    _OPPOSITE.setdefault(_b, _a)
_DIRECTION_WORD = re.compile(
    r"\b(" + "|".join(sorted(_OPPOSITE, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
# A negated claim ("does not increase") reads the other way already; flipping its word
# would not make a clean opposite.
_NEGATION = re.compile(r"\b(?:no|not|never|neither|nor|without|fails?|failed|cannot)\b|n't", re.I)


@dataclass(frozen=True, slots=True)
class StancePair:
    """One labelled example for the stance model. Created by the dataset loaders."""

    claim: str
    evidence: str
    """Evidence text: one abstract sentence, or a rationale set's sentences joined."""
    label: Stance
    source: str
    """Dataset it came from (one of :data:`SOURCES`, or ``healthver-csv``)."""


def parse_label(raw: str) -> Stance:
    """Map a dataset's label spelling to a Stance.

    Args:
        raw: A label such as ``SUPPORT``, ``Refutes``, ``not_entailment`` or ``NEI``.

    Raises:
        ValueError: The label is not one we know.
    """
    key = raw.strip().lower()
    if key not in _LABELS:
        raise ValueError(f"unknown stance label {raw!r}")
    return _LABELS[key]


def normalise_claim(text: str) -> str:
    """Return the claim text used to compare claims: stripped, lower-cased, single-spaced."""
    return " ".join(text.lower().split())


def is_validation_claim(claim: str) -> bool:
    """Return True when ``claim`` belongs to the validation split.

    The split hashes the normalised text, so it is stable across runs, machines and
    datasets, and a claim repeated in two datasets lands on the same side.
    """
    digest = hashlib.sha256(normalise_claim(claim).encode()).digest()
    return int.from_bytes(digest[:8], "big") % VALIDATION_MODULUS == 0


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _clean(text: str) -> str:
    # Upstream sentences keep trailing whitespace and newlines; the model needs none.
    return " ".join(text.split())


def _rationale_pairs(
    claim: str,
    evidence: dict[str, list[dict[str, Any]]],
    doc_ids: Iterable[int],
    corpus: dict[int, list[str]],
    source: str,
) -> Iterator[StancePair]:
    """Pairs for one SciFact-style claim: rationale sets labelled, other sentences neutral."""
    for doc_id in doc_ids:
        sentences = corpus.get(int(doc_id))
        if sentences is None:
            continue
        used: set[int] = set()
        for rationale in evidence.get(str(doc_id), []):
            idx = sorted(i for i in rationale["sentences"] if 0 <= i < len(sentences))
            if not idx:
                continue
            used.update(idx)
            text = " ".join(_clean(sentences[i]) for i in idx)
            yield StancePair(claim, text, parse_label(rationale["label"]), source)
        for i, sentence in enumerate(sentences):
            if i not in used and _clean(sentence):
                yield StancePair(claim, _clean(sentence), Stance.NEUTRAL, source)


def load_scifact(directory: Path) -> list[StancePair]:
    """Read SciFact ``claims_train.jsonl`` and ``corpus.jsonl`` from ``directory``.

    Args:
        directory: The ``scifact/`` folder.

    Returns:
        Rationale pairs (supports/refutes) and neutral pairs from cited abstracts.
    """
    corpus = {int(d["doc_id"]): d["abstract"] for d in _read_jsonl(directory / "corpus.jsonl")}
    pairs: list[StancePair] = []
    for row in _read_jsonl(directory / "claims_train.jsonl"):
        claim = _clean(row["claim"])
        pairs.extend(
            _rationale_pairs(claim, row["evidence"], row["cited_doc_ids"], corpus, "scifact")
        )
    return pairs


def load_healthver_multivers(directory: Path, split: str = "train") -> list[StancePair]:
    """Read HealthVer in MultiVerS format (``claims_<split>.jsonl`` + ``corpus.jsonl``).

    Args:
        directory: The ``healthver/multivers/`` folder.
        split: ``train``, ``dev`` or ``fewshot``.

    Returns:
        Rationale pairs and neutral pairs from each claim's candidate abstracts.
    """
    corpus = {int(d["doc_id"]): d["abstract"] for d in _read_jsonl(directory / "corpus.jsonl")}
    pairs: list[StancePair] = []
    for row in _read_jsonl(directory / f"claims_{split}.jsonl"):
        claim = _clean(row["claim"])
        pairs.extend(_rationale_pairs(claim, row["evidence"], row["doc_ids"], corpus, "healthver"))
    return pairs


def load_checkcovid(
    directory: Path, split: str = "train", *, claims_file: Path | None = None
) -> list[StancePair]:
    """Read Check-COVID claims (composed + extracted) and its ``corpus.json``.

    Args:
        directory: The ``checkcovid/`` folder.
        split: ``train`` or ``dev``.
        claims_file: A claims file to read instead of the split's composed+extracted one.

    Returns:
        One labelled pair per claim's evidence set plus neutral pairs from the
        abstract's other sentences.
    """
    corpus = {d["cord_id"]: d["abstract"] for d in _read_jsonl(directory / "corpus.json")}
    path = claims_file or directory / split / f"covidCheck_{split}_composed+extracted.json"
    pairs: list[StancePair] = []
    for row in _read_jsonl(path):
        sentences = corpus.get(row["cord_id"])
        if sentences is None:
            continue
        claim = _clean(row["claim"])
        idx = sorted(
            {e["sent_index"] for e in row["evidence_set"] if 0 <= e["sent_index"] < len(sentences)}
        )
        if idx:
            text = " ".join(_clean(sentences[i]) for i in idx)
            pairs.append(StancePair(claim, text, parse_label(row["label"]), "checkcovid"))
        for i, sentence in enumerate(sentences):
            if i not in idx and _clean(sentence):
                pairs.append(StancePair(claim, _clean(sentence), Stance.NEUTRAL, "checkcovid"))
    return pairs


def load_covidfact(path: Path) -> list[StancePair]:
    """Read a COVID-Fact RTE file (``train.tsv`` or ``dev.tsv``).

    Args:
        path: The TSV file; its last column is the label whatever its header says.

    Returns:
        Supports and refutes pairs; COVID-Fact has no neutral class.
    """
    # The upstream TSV is unquoted: quote characters are part of the text.
    csv.field_size_limit(sys.maxsize)
    pairs: list[StancePair] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if len(row) < 4:
                continue
            evidence, claim, label = _clean(row[1]), _clean(row[2]), row[-1]
            if evidence and claim:
                pairs.append(StancePair(claim, evidence, parse_label(label), "covidfact"))
    return pairs


def load_healthver_csv(path: Path) -> list[StancePair]:
    """Read HealthVer's original CSV (``id,evidence,claim,label,...``).

    Args:
        path: For example ``healthver/healthver_dev.csv``.

    Returns:
        One pair per row, labels Supports/Refutes/Neutral mapped to Stance.
    """
    pairs: list[StancePair] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pairs.append(
                StancePair(
                    _clean(row["claim"]),
                    _clean(row["evidence"]),
                    parse_label(row["label"]),
                    "healthver-csv",
                )
            )
    return pairs


def load_training_pairs(
    data_dir: Path, sources: Sequence[str] = SOURCES, *, exclude_claims: Iterable[str] = ()
) -> list[StancePair]:
    """Read every training set under ``data_dir``.

    Args:
        data_dir: A folder laid out like ``shared/data``.
        sources: Which of :data:`SOURCES` to read.
        exclude_claims: Claim texts to leave out (compared normalised), e.g. the
            HealthVer dev claims, so a benchmark claim never leaks into training.

    Returns:
        All pairs, in a stable order.

    Raises:
        ConfigError: A source is unknown or its files are missing.
    """
    readers = {
        "scifact": lambda: load_scifact(data_dir / "scifact"),
        "healthver": lambda: load_healthver_multivers(data_dir / "healthver" / "multivers"),
        "checkcovid": lambda: load_checkcovid(data_dir / "checkcovid"),
        "covidfact": lambda: load_covidfact(data_dir / "covidfact" / "train.tsv"),
    }
    excluded = {normalise_claim(c) for c in exclude_claims}
    pairs: list[StancePair] = []
    for source in sources:
        if source not in readers:
            raise ConfigError(f"unknown training set {source!r}; choose from {', '.join(SOURCES)}")
        try:
            loaded = readers[source]()
        except FileNotFoundError as exc:
            raise ConfigError(
                f"training set {source!r} is incomplete: {exc.filename} is missing; "
                "point --data (or CLAIMSCAN_DATA) at a copy of shared/data"
            ) from exc
        pairs.extend(p for p in loaded if normalise_claim(p.claim) not in excluded)
    return pairs


def split_by_claim(pairs: Iterable[StancePair]) -> tuple[list[StancePair], list[StancePair]]:
    """Split pairs into (train, validation) by :func:`is_validation_claim`."""
    train: list[StancePair] = []
    val: list[StancePair] = []
    for pair in pairs:
        (val if is_validation_claim(pair.claim) else train).append(pair)
    return train, val


def balance(
    pairs: Sequence[StancePair], *, neutral_ratio: float = 0.5, seed: int = 0
) -> list[StancePair]:
    """Sample neutral pairs down so they do not swamp the labelled ones.

    Neutral sentences outnumber rationales about ten to one; keeping them all would
    teach the model to answer neutral. The sample uses a fixed seed, so the result is
    deterministic.

    Args:
        pairs: Pairs of every class.
        neutral_ratio: Neutral pairs kept, as a fraction of the supports + refutes count.
        seed: Seed for the sample.

    Returns:
        All supports and refutes pairs and the sampled neutrals, in input order.
    """
    labelled = sum(1 for p in pairs if p.label is not Stance.NEUTRAL)
    neutral_idx = [i for i, p in enumerate(pairs) if p.label is Stance.NEUTRAL]
    keep = min(len(neutral_idx), round(labelled * neutral_ratio))
    chosen = set(random.Random(seed).sample(neutral_idx, keep))
    return [p for i, p in enumerate(pairs) if p.label is not Stance.NEUTRAL or i in chosen]


def class_weights(pairs: Sequence[StancePair]) -> dict[Stance, float]:
    """Return inverse-frequency loss weights, ``n / (classes * count)``.

    Each present class then carries the same total weight in the loss, and the weight
    averaged over examples is 1. A class with no examples gets weight 0.
    """
    counts = Counter(p.label for p in pairs)
    present = [s for s in Stance if counts[s]]
    if not present:
        return {s: 0.0 for s in Stance}
    return {s: (len(pairs) / (len(present) * counts[s]) if counts[s] else 0.0) for s in Stance}


def describe(pairs: Sequence[StancePair]) -> dict[str, dict[str, int]]:
    """Return pair counts per source and label, for logs and the model card."""
    table: dict[str, dict[str, int]] = {}
    for pair in pairs:
        row = table.setdefault(pair.source, {s.value: 0 for s in Stance})
        row[pair.label.value] += 1
    return table


def heldout_claims(data_dir: Path) -> list[str]:
    """Return the claims of HealthVer's dev CSV, the benchmark training must not see.

    One HealthVer claim appears both in the MultiVerS train split and in the dev CSV
    (see shared/data/README.md); leaving dev claims out keeps the benchmark clean.
    Returns an empty list when the CSV is absent.
    """
    path = data_dir / "healthver" / "healthver_dev.csv"
    if not path.exists():
        return []
    return [pair.claim for pair in load_healthver_csv(path)]


def flip_direction(claim: str) -> str | None:
    """Return the claim with its direction word reversed, or None when that is unsafe. Pure.

    Only claims with exactly one direction word ("increases", "lower", "improves", …)
    and no negation are flipped; the word keeps its capitalisation.
    """
    words = _DIRECTION_WORD.findall(claim)
    if len(words) != 1 or _NEGATION.search(claim):
        return None

    def opposite(m: re.Match[str]) -> str:
        word = m.group(0)
        out = _OPPOSITE[word.lower()]
        if word.isupper():
            return out.upper()
        return out.capitalize() if word[0].isupper() else out

    return _DIRECTION_WORD.sub(opposite, claim)


def direction_flips(pairs: Iterable[StancePair]) -> list[StancePair]:
    """Counterfactual refutations: each supported claim with its direction reversed.

    Trained without them, the stance model barely reads direction: reversing a claim's
    direction word hardly moves its P(supports) (``claimscan eval stance`` measures it;
    docs/models.md has the figures).
    COVID-Fact pairs are left out; they are machine-made swaps already.
    """
    out = []
    for pair in pairs:
        if pair.label is not Stance.SUPPORTS or pair.source == "covidfact":
            continue
        flipped = flip_direction(pair.claim)
        if flipped is not None:
            out.append(StancePair(flipped, pair.evidence, Stance.REFUTES, f"{pair.source}-flip"))
    return out


def training_splits(
    data_dir: Path,
    *,
    sources: Sequence[str] = SOURCES,
    neutral_ratio: float = 0.5,
    seed: int = 13,
    max_pairs: int | None = None,
    flips: bool = False,
) -> tuple[list[StancePair], list[StancePair]]:
    """Return the balanced (train, validation) pairs the stance model is trained on.

    Args:
        data_dir: A folder laid out like ``shared/data``.
        sources: Which of :data:`SOURCES` to read.
        neutral_ratio: See :func:`balance`.
        seed: Seed for neutral sampling and for ``max_pairs``.
        max_pairs: Keep at most this many training pairs (a random sample), for
            quick probes; the validation split is never cut.
        flips: Add :func:`direction_flips` of the training pairs (after the split by
            claim, so a flipped claim stays on its original's side). Validation is left
            as it is, so its figures compare with models trained without them.

    Raises:
        ConfigError: A source is unknown or its files are missing.
    """
    pairs = load_training_pairs(data_dir, sources, exclude_claims=heldout_claims(data_dir))
    train, val = split_by_claim(pairs)
    train = balance(train, neutral_ratio=neutral_ratio, seed=seed)
    val = balance(val, neutral_ratio=neutral_ratio, seed=seed)
    if flips:
        train += direction_flips(train)
    if max_pairs is not None and max_pairs < len(train):
        keep = set(random.Random(seed).sample(range(len(train)), max_pairs))
        train = [p for i, p in enumerate(train) if i in keep]
    return train, val


def validation_pairs(
    data_dir: Path,
    *,
    sources: Sequence[str] = SOURCES,
    neutral_ratio: float = 0.5,
    seed: int = 13,
) -> list[StancePair]:
    """Return the validation half of :func:`training_splits` (same arguments)."""
    return training_splits(data_dir, sources=sources, neutral_ratio=neutral_ratio, seed=seed)[1]
