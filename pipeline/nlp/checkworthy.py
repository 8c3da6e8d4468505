"""Check-worthiness: does a sentence assert a health proposition a PubMed search could test?

A logistic-regression head over the encoder's 384-d unit embedding of the sentence and a
few cheap cues (a health term, numbers, findings wording, study-method wording, first
person, quotation, a subject that points back, hedged futures, length). It is trained by
``pipeline.train.checkworthy`` on ``data/checkworthy/checkworthy.jsonl`` and calibrated
by Platt scaling on cross-fitted training predictions; its threshold is chosen on those
same predictions to keep recall high, because a claim the editor never sees costs more
than a sentence they skim past.

The classifier implements :class:`claims.checkworthy.CheckworthyScorer`: the split stage
calls it on the sentences the rules' first cut keeps. Given the promotional classifier,
it also keeps every sentence that classifier would flag, so promotion still reaches the
promotional label even when it asserts nothing checkable.

I/O: :func:`load_checkworthy_classifier` reads ``head.safetensors`` and
``checkworthy.json`` from a model directory and loads the encoder. Everything else is
computation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from claims.checkworthy import mentions_health, needs_referent
from claims.types import Document
from pipeline.errors import ModelLoadError
from pipeline.nlp.head_files import head_logits, read_head_files, write_head_files

CONFIG_FILE = "checkworthy.json"
FORMAT_VERSION = 1

_NUMBER = re.compile(r"\d")
_STATISTIC = re.compile(
    r"\d\s*(?:%|percent|per cent)|\b(?:odds|hazard|relative) ratio|\brisk\b|\bp\s*[<=]"
    r"|\b(?:one|two|three|four|five) (?:in|out of) (?:\w+)\b|\b\d+(?:\.\d+)?-fold\b",
    re.IGNORECASE,
)
_FINDING = re.compile(
    r"\b(?:found|find|finds|show(?:s|ed|n)?|demonstrat\w+|associated|linked|reduc\w+|"
    r"increas\w+|decreas\w+|lower\w*|higher|improv\w+|caus\w+|leads? to|prevent\w*|"
    r"effective|safe(?:ly)?|protect\w*|benefit\w*|worsen\w*|no difference)\b",
    re.IGNORECASE,
)
# How a study was run, not what it found: "Participants were randomly assigned…".
_METHOD = re.compile(
    r"\b(?:participants?|subjects|enrolled|recruited|randomi[sz]ed|randomly|were "
    r"(?:assigned|divided|asked|given|followed|measured|monitored|instructed|evaluated)|"
    r"measurements?|questionnaires?|aim(?:ed|s)? to|purpose of|sought to|set out to|"
    r"to (?:determine|investigate|assess|examine|evaluate|test) (?:whether|if|the)|"
    r"(?:we|researchers|investigators|they) (?:examined|investigated|assessed|analy[sz]ed|"
    r"compared|collected|used|reviewed|looked at)|funded|supported by|published (?:in|today)|"
    r"presented at|co-?authors?|journal)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|we|we're|we've|our|us|my)\b")
_QUOTE = re.compile(r"[\"\u201c\u201d]|\b(?:said|says|explained|added|noted)\b")
_PROSPECT = re.compile(
    r"\b(?:will|could|plan(?:s|ned)? to|hope[sd]?|future|next step|potential(?:ly)?|"
    r"further (?:research|studies|study)|more research)\b",
    re.IGNORECASE,
)

# A press release's dateline ("LOS ANGELES (Embargoed …) --", "Newswise — CHICAGO –")
# says nothing about the claim after it, and on validation data it pulled claims down.
_DATELINE_SEPARATOR = re.compile(r"\s--\s|\s[-\u2013\u2014]\s|[\u2013\u2014]\s*|:\s")
_DATELINE_MARK = re.compile(
    r"\b[A-Z]{4,}\b|\b(?:19|20)\d\d\b|Newswi(?:se|re)|Embargoed|"
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d"
)
_NOT_DATELINE = re.compile(r"(?:The|A|An|This|These|Our|We|It|In)\b")
DATELINE_MAX_WORDS = 10


def model_text(sentence: str) -> str:
    """Return what the head reads of a sentence: the sentence without a leading dateline.

    Only the model's input changes; the claim keeps its text and offsets.
    """
    text = sentence
    for _ in range(2):  # "Newswise — RESEARCH TRIANGLE PARK, NC— Major depressive …"
        m = _DATELINE_SEPARATOR.search(text, 0, 160)
        if not m:
            break
        prefix = text[: m.start()]
        if (
            len(prefix.split()) > DATELINE_MAX_WORDS
            or not _DATELINE_MARK.search(prefix)
            or _NOT_DATELINE.match(prefix)
        ):
            break
        rest = text[m.end() :].lstrip()
        if len(rest.split()) < 3:
            break
        text = rest
    return text


CUE_FEATURES: tuple[str, ...] = (
    "health_term",
    "number",
    "statistic",
    "finding",
    "method",
    "first_person",
    "quote",
    "prospect",
    "points_back",
    "log_words",
)


def cue_vector(sentence: str) -> list[float]:
    """Return the cheap cues of one sentence in :data:`CUE_FEATURES` order. Pure."""
    return [
        float(mentions_health(sentence)),
        float(bool(_NUMBER.search(sentence))),
        float(bool(_STATISTIC.search(sentence))),
        float(bool(_FINDING.search(sentence))),
        float(bool(_METHOD.search(sentence))),
        float(bool(_FIRST_PERSON.search(sentence))),
        float(bool(_QUOTE.search(sentence))),
        float(bool(_PROSPECT.search(sentence))),
        float(needs_referent(sentence)),
        math.log(max(len(sentence.split()), 1)),
    ]


def cue_matrix(sentences: Sequence[str]) -> np.ndarray:
    """Return the cues of each sentence, shape (len(sentences), len(CUE_FEATURES)). Pure.

    Sentences are read as :func:`model_text` gives them.
    """
    rows = [cue_vector(model_text(s)) for s in sentences]
    return np.asarray(rows, dtype=np.float32).reshape(len(sentences), len(CUE_FEATURES))


@dataclass(frozen=True, slots=True)
class CheckworthyHead:
    """The trained logistic-regression head and its settings. Created by training."""

    weight: np.ndarray
    """Shape (embedding_dim + len(feature_names),)."""
    bias: float
    cue_mean: np.ndarray
    """Per-cue mean over the training split, for standardisation."""
    cue_std: np.ndarray
    feature_names: tuple[str, ...]
    """Cue names in column order; embeddings come first and are not named."""
    embedding_dim: int
    temperature: float
    """Logits are divided by this before the sigmoid (Platt scaling, with the bias)."""
    calibration_bias: float
    threshold: float
    """Calibrated P(checkable) from which a sentence is checked."""
    base_model: str | None
    """Encoder the head was trained on; None means the embedded all-MiniLM-L6-v2."""
    metadata: dict[str, Any]

    def logits(self, embeddings: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Return raw logits for rows of embeddings and cues."""
        return head_logits(self, embeddings, cues)

    def probabilities(self, logits: np.ndarray) -> list[float]:
        """Return calibrated P(checkable) for raw logits."""
        z = np.clip(logits / self.temperature + self.calibration_bias, -50.0, 50.0)
        return [float(v) for v in 1.0 / (1.0 + np.exp(-z))]

    def save(self, out_dir: Path) -> None:
        """Write ``head.safetensors`` and ``checkworthy.json`` to ``out_dir``."""
        config = {
            "format_version": FORMAT_VERSION,
            "kind": "logistic-regression",
            "feature_names": list(self.feature_names),
            "embedding_dim": self.embedding_dim,
            "temperature": self.temperature,
            "calibration_bias": self.calibration_bias,
            "threshold": self.threshold,
            "base_model": self.base_model,
            **self.metadata,
        }
        write_head_files(self, out_dir, CONFIG_FILE, config)


class Promotional(Protocol):
    """What the check-worthiness model needs of the promotional classifier."""

    @property
    def threshold(self) -> float: ...

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]: ...


class CheckworthyClassifier:
    """Scores sentences as worth checking; a :class:`claims.checkworthy.CheckworthyScorer`."""

    def __init__(
        self, head: CheckworthyHead, embedder: Any, promo: Promotional | None = None
    ) -> None:
        self.head = head
        self.embedder = embedder
        self.promo = promo
        """A promotional classifier (``predict_pairs``, ``threshold``) whose flagged
        sentences are kept whatever this head says; None keeps only checkable ones."""

    @property
    def threshold(self) -> float:
        return self.head.threshold

    def with_threshold(self, threshold: float) -> CheckworthyClassifier:
        """Return a classifier that keeps sentences from ``threshold`` instead."""
        return CheckworthyClassifier(
            replace(self.head, threshold=threshold), self.embedder, self.promo
        )

    def with_promo(self, promo: Promotional | None) -> CheckworthyClassifier:
        """Return a classifier that also keeps what ``promo`` flags as promotional."""
        return CheckworthyClassifier(self.head, self.embedder, promo)

    def probabilities(self, sentences: Sequence[str]) -> list[float]:
        """Return calibrated P(checkable) for each sentence, in order."""
        if not sentences:
            return []
        emb = self.embedder.encode([model_text(s) for s in sentences])
        return self.head.probabilities(self.head.logits(emb, cue_matrix(sentences)))

    def checkworthy(self, sentences: Sequence[str], document: Document) -> list[bool]:
        """Return, per sentence of ``document``, whether it is checkable or promotional.

        Args:
            sentences: Candidates from one document that passed the rules' first cut.
            document: Their document, whose text the promotional classifier reads.
        """
        keep = [p >= self.threshold for p in self.probabilities(sentences)]
        if self.promo is not None and not all(keep):
            # Only the sentences this head drops need the promotional verdict.
            rest = [i for i, k in enumerate(keep) if not k]
            probs = self.promo.predict_pairs([(sentences[i], document.text) for i in rest])
            for i, q in zip(rest, probs, strict=True):
                keep[i] = q >= self.promo.threshold
        return keep


def load_checkworthy_head(path: str | Path) -> CheckworthyHead:
    """Read a head saved by :meth:`CheckworthyHead.save`.

    Raises:
        ModelLoadError: Files are missing, unreadable or inconsistent.
    """
    files = read_head_files(
        path,
        config_file=CONFIG_FILE,
        what="check-worthiness head",
        hint=(
            "train one with `claimscan train checkworthy --out DIR`, or set "
            "CLAIMSCAN_CHECKWORTHY_MODEL to a directory holding head.safetensors and "
            "checkworthy.json (or to `rules` to use the rules alone)"
        ),
        features=CUE_FEATURES,
        retrain="claimscan train checkworthy",
    )
    config, tensors = files.config, files.tensors
    known = {
        "format_version", "kind", "feature_names", "embedding_dim", "temperature",
        "calibration_bias", "threshold", "base_model",
    }  # fmt: skip
    return CheckworthyHead(
        weight=tensors["weight"],
        bias=float(tensors["bias"][0]),
        cue_mean=tensors["cue_mean"],
        cue_std=tensors["cue_std"],
        feature_names=files.feature_names,
        embedding_dim=files.embedding_dim,
        temperature=float(config["temperature"]),
        calibration_bias=float(config["calibration_bias"]),
        threshold=float(config["threshold"]),
        base_model=config.get("base_model"),
        metadata=files.extra(known),
    )


def load_checkworthy_classifier(
    path: str | Path, base_model: str | None = None
) -> CheckworthyClassifier:
    """Load the check-worthiness head and the encoder it was trained on.

    Args:
        path: Directory with ``head.safetensors`` and ``checkworthy.json``.
        base_model: Encoder to use instead of the one recorded with the head; its
            embedding size must match.

    Raises:
        ModelLoadError: The head or the encoder cannot be loaded, or they do not fit.
    """
    from pipeline.nlp.embed import load_embedder

    head = load_checkworthy_head(path)
    embedder = load_embedder(base_model or head.base_model)
    if embedder.dim != head.embedding_dim:
        raise ModelLoadError(
            f"encoder {embedder.name!r} gives {embedder.dim}-d vectors but the "
            f"check-worthiness head in {str(path)!r} expects {head.embedding_dim}; pass the "
            "base model it was trained on (--base-model) or retrain it"
        )
    return CheckworthyClassifier(head, embedder)
