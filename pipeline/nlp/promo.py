"""Commercial-promotional sentence classifier: a trained head over MiniLM sentence embeddings.

Features per sentence are the encoder's 384-d unit embedding, a few sentence cues (®/™,
superiority words, calls to action, provider voice) and a few cues computed on the whole
document (brand repetition, trademark density, first-person provider voice, calls to
action, author-bio lines). A logistic-regression head trained with torch
(``pipeline.train.promo``) maps them to P(promotional), calibrated by Platt scaling
fitted on cross-validated training predictions.

I/O: :func:`load_promo_classifier` reads ``head.safetensors`` and ``promo.json`` from a
model directory and loads the encoder through :func:`pipeline.nlp.embed.load_embedder`.
Everything else is computation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelLoadError

HEAD_FILE = "head.safetensors"
CONFIG_FILE = "promo.json"
FORMAT_VERSION = 1

SENTENCE_FEATURES: tuple[str, ...] = (
    "s_trademark",
    "s_superiority",
    "s_call_to_action",
    "s_first_person",
    "s_second_person",
    "s_brand_mention",
    "s_volume_credential",
)
DOCUMENT_FEATURES: tuple[str, ...] = (
    "d_trademark_rate",
    "d_brand_repetition",
    "d_first_person_rate",
    "d_call_to_action_rate",
    "d_author_bio",
)
# The head sees sentence cues only. Page cues are shared by every sentence of a page,
# so a head given them learns which training pages were promotional rather than which
# sentences promote (val promotional F1 fell from about 0.6 to 0.4 with them); they
# drive the page-level commercial-context flag instead.
CUE_FEATURES: tuple[str, ...] = SENTENCE_FEATURES

_TRADEMARK = re.compile(r"[®™℠]|\((?:R|TM)\)")
_SUPERIORITY = re.compile(
    r"#\s?1\b|\b(?:best|superior|superiority|leading|leader|number one|first and only|only\b"
    r"|innovative|breakthrough|proprietary|patented|world[- ]class|premier|cutting[- ]edge"
    r"|state[- ]of[- ]the[- ]art|game[- ]chang\w*|paradigm|unique|renowned|pioneer\w*"
    r"|next[- ]generation|clinically proven|outperform\w*|most[- ]studied|unlike other)\b",
    re.IGNORECASE,
)
_CTA_START = re.compile(
    r"^\W*(?:visit|contact|call|request|learn|join|subscribe|receive|get|consider|find|"
    r"schedule|book|sign up|click|download|order|buy|try|ask|discover)\b",
    re.IGNORECASE,
)
_CTA_ANY = re.compile(
    r"\b(?:contact us|call (?:us|today|now)|learn more|sign up|free (?:consultation|"
    r"info|information)|info packet|webinar|book (?:an|your) (?:appointment|consultation)|"
    r"to set up your consultation|for a consultation)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I've|I'm|we|we're|we've|our|us|my)\b")
# Case-insensitive for sentence-initial "We"/"Our", but "US" (the country) must not count.
_FIRST_PERSON_CI = re.compile(r"\b(?:we|we're|we've|our)\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're)\b", re.IGNORECASE)
_VOLUME = re.compile(
    r"\b(?:more than|over|nearly|almost)\s+[\d,.]+\+?\s*(?:million\s+|thousand\s+)?"
    r"(?:hours|patients|years|people|procedures|women|men|customers|members|colleagues|"
    r"countries|tests|cases)\b|\b\d+\+?\s+years(?:'|’)? (?:of )?experience\b|\bdecades of\b",
    re.IGNORECASE,
)
_AUTHOR_BIO = re.compile(
    r"\b(?:founder|co-founder|chief executive|CEO|is a specialist in|board[- ]certified|"
    r"pioneered|years of experience|view profile|about the author)\b|^About [A-Z]",
    re.IGNORECASE | re.MULTILINE,
)
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*\b")
# Capitalised words that repeat in any article without naming a brand.
_NOT_BRANDS = frozenset(
    "The This That These Those A An In On Of For And But Or If It Its As At By To With From "
    "We Our I You Your He She They Dr Mr Mrs Ms MD PhD Prof Professor University Hospital "
    "Medical Center Centre Medicine Research Study Studies Institute Department School "
    "Journal Association Society National American European International Health Clinical "
    "Phase Trial Patients Patient January February March April May June July August "
    "September October November December Monday Tuesday Wednesday Thursday Friday Saturday "
    "Sunday U.S US USA UK FDA NIH CDC Disease Cancer Spine Knee Hip Shoulder Back".split()
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z\"“(0-9])|\n+")

# Commercial context needs signals from the page itself, not just a few sentences that
# sound like marketing: an academic press release can contain a quoted "breakthrough".
CONTEXT_MIN_SIGNALS = 2
CONTEXT_MIN_PROMO_SENTENCES = 2
CONTEXT_STRONG_SIGNALS = 4


def _sentences(text: str) -> list[str]:
    # A rough split is enough for page-level rates; claim extraction has its own splitter.
    return [s.strip() for s in _SENTENCE_END.split(text) if s and len(s.split()) >= 2]


def _brand_counts(document_text: str) -> Counter[str]:
    """Count capitalised words that are not sentence-initial and not common nouns."""
    counts: Counter[str] = Counter()
    for sentence in _sentences(document_text):
        tokens = _CAPITALISED.findall(sentence)
        start = sentence.split(maxsplit=1)[0] if sentence.split() else ""
        for i, tok in enumerate(tokens):
            if i == 0 and start.strip('"“(').startswith(tok):
                continue
            if tok not in _NOT_BRANDS and len(tok) > 2:
                counts[tok] += 1
    return counts


def _is_cta(sentence: str) -> bool:
    return bool(_CTA_START.search(sentence) or _CTA_ANY.search(sentence))


def _has_first_person(sentence: str) -> bool:
    return bool(_FIRST_PERSON.search(sentence) or _FIRST_PERSON_CI.search(sentence))


@dataclass(frozen=True, slots=True)
class DocumentCues:
    """Page-level cues computed once per document. Pure data."""

    trademark_rate: float
    """Trademark signs per sentence, capped at 1."""
    brand_repetition: float
    """How often the most repeated brand-like word occurs, squashed to 0–1."""
    first_person_rate: float
    """Share of sentences in first person (we, our, I): provider voice."""
    call_to_action_rate: float
    """Share of sentences that are calls to action."""
    author_bio: float
    """1.0 when the page carries author-bio or company-boilerplate lines, or its author
    states their own credentials ("I have … more than 80,000 hours")."""
    brands: frozenset[str]
    """Brand-like words repeated at least three times."""

    def vector(self) -> list[float]:
        """Return the cues in :data:`DOCUMENT_FEATURES` order."""
        return [
            self.trademark_rate,
            self.brand_repetition,
            self.first_person_rate,
            self.call_to_action_rate,
            self.author_bio,
        ]

    def signals(self) -> int:
        """Count the page-level commercial signals that are clearly present."""
        return sum(
            (
                self.trademark_rate > 0,
                self.brand_repetition >= 0.5,
                self.first_person_rate >= 0.1,
                self.call_to_action_rate > 0,
                self.author_bio > 0,
            )
        )


@lru_cache(maxsize=32)
def document_cues(document_text: str) -> DocumentCues:
    """Compute page-level commercial cues. Pure, and cached: a long page's claims are
    scored in several batches, and each batch asks for the same page's cues.

    Args:
        document_text: The whole page or article; may be a single sentence.

    Returns:
        The cues, with rates normalised by sentence count so long and short pages compare.
    """
    sentences = _sentences(document_text) or [document_text]
    n = max(len(sentences), 1)
    counts = _brand_counts(document_text)
    brands = frozenset(tok for tok, c in counts.items() if c >= 3)
    top = max(counts.values(), default=0)
    return DocumentCues(
        trademark_rate=min(len(_TRADEMARK.findall(document_text)) / n, 1.0),
        # 3 repeats -> 0.5, 9 -> 0.83: saturates so a long release does not dominate.
        brand_repetition=0.0 if top < 3 else 1.0 - 1.5 / top,
        first_person_rate=sum(_has_first_person(s) for s in sentences) / n,
        call_to_action_rate=sum(_is_cta(s) for s in sentences) / n,
        author_bio=float(
            bool(_AUTHOR_BIO.search(document_text))
            # A practitioner's article often has no bio box, only the first-person claim
            # of experience (the nmfscience seed: "Over three decades … I have studied").
            or any(_VOLUME.search(s) and _has_first_person(s) for s in sentences)
        ),
        brands=brands,
    )


def _cue_matches(sentence: str, doc: DocumentCues) -> dict[str, str | None]:
    """Return what each sentence cue matched, keyed by :data:`SENTENCE_FEATURES` name;
    None where the cue is absent. Pure."""

    def found(match: re.Match[str] | None) -> str | None:
        return match.group(0).strip() if match else None

    brands = sorted(set(_CAPITALISED.findall(sentence)) & doc.brands)
    return {
        "s_trademark": found(_TRADEMARK.search(sentence)),
        "s_superiority": found(_SUPERIORITY.search(sentence)),
        "s_call_to_action": found(_CTA_START.search(sentence) or _CTA_ANY.search(sentence)),
        "s_first_person": found(
            _FIRST_PERSON.search(sentence) or _FIRST_PERSON_CI.search(sentence)
        ),
        "s_second_person": found(_SECOND_PERSON.search(sentence)),
        "s_brand_mention": brands[0] if brands else None,
        "s_volume_credential": found(_VOLUME.search(sentence)),
    }


def sentence_cues(sentence: str, doc: DocumentCues) -> list[float]:
    """Return the sentence cues in :data:`SENTENCE_FEATURES` order. Pure.

    Args:
        sentence: One candidate claim.
        doc: Cues of the document the sentence comes from (for brand mentions).
    """
    matches = _cue_matches(sentence, doc)
    return [float(matches[name] is not None) for name in SENTENCE_FEATURES]


# How the rationale names each cue, in the order it lists them. Second person is left
# out: "you" alone does not read as selling to an editor.
_SIGN_NAMES = {
    "s_trademark": "trademark sign",
    "s_superiority": "superiority wording",
    "s_call_to_action": "call to action",
    "s_volume_credential": "credentials or volume",
    "s_brand_mention": "brand named across the page",
    "s_first_person": "provider voice",
}


def promotional_signs(sentence: str, document_text: str) -> list[str]:
    """Name the promotional cues present in a sentence, quoting what matched. Pure.

    For the rationale of a claim labelled promotional: an editor sees which words read as
    selling. The label itself comes from the trained head, which also weighs wording no
    cue names, so a flagged sentence can have no signs to show.

    Args:
        sentence: The claim.
        document_text: Its page, for brand names repeated across it.
    """
    matches = _cue_matches(sentence, document_cues(document_text))
    return [f'{label} "{matches[name]}"' for name, label in _SIGN_NAMES.items() if matches[name]]


def cue_matrix(sentences: Sequence[str], document_text: str) -> np.ndarray:
    """Return the hand-made cues of each sentence, shape (len(sentences), len(CUE_FEATURES))."""
    doc = document_cues(document_text)
    rows = [sentence_cues(s, doc) for s in sentences]
    return np.asarray(rows, dtype=np.float32).reshape(len(sentences), len(CUE_FEATURES))


def commercial_context_from(
    doc: DocumentCues, sentence_probs: Sequence[float], threshold: float = 0.5
) -> bool:
    """Decide the page-level commercial flag from its cues and sentence scores. Pure.

    A page is commercial when several promotional sentences meet at least one page signal
    (brand repeated, ®/™, provider voice, call to action, author bio), or when the page
    signals are strong on their own.

    Args:
        doc: The page's cues.
        sentence_probs: P(promotional) of the page's sentences.
        threshold: P(promotional) from which a sentence counts as promotional (the
            head's own decision threshold).

    Returns:
        True when the page as a whole reads as promotion.
    """
    promo = sum(p >= threshold for p in sentence_probs)
    signals = doc.signals()
    if signals >= CONTEXT_STRONG_SIGNALS:
        return True
    if promo >= CONTEXT_MIN_PROMO_SENTENCES and signals >= 1:
        return True
    return promo >= 1 and signals >= CONTEXT_MIN_SIGNALS


@dataclass(frozen=True, slots=True)
class PromoHead:
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
    """Logits are divided by this before the sigmoid (calibration)."""
    calibration_bias: float
    """Added to the scaled logit before the sigmoid; with ``temperature``, Platt scaling."""
    threshold: float
    """P(promotional) at or above which a claim is labelled commercial-promotional."""
    base_model: str | None
    """Encoder the head was trained on; None means the embedded all-MiniLM-L6-v2."""
    metadata: dict[str, Any]

    def logits(self, embeddings: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """Return raw logits for rows of embeddings and cues."""
        z = (cues - self.cue_mean) / self.cue_std
        x = np.concatenate([embeddings.astype(np.float32), z.astype(np.float32)], axis=1)
        return x @ self.weight.astype(np.float32) + np.float32(self.bias)

    def save(self, out_dir: Path) -> None:
        """Write ``head.safetensors`` and ``promo.json`` to ``out_dir``."""
        from safetensors.numpy import save_file

        out_dir.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                "weight": self.weight.astype(np.float32),
                "bias": np.asarray([self.bias], dtype=np.float32),
                "cue_mean": self.cue_mean.astype(np.float32),
                "cue_std": self.cue_std.astype(np.float32),
            },
            str(out_dir / HEAD_FILE),
        )
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
        (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


class PromoClassifier:
    """Score sentences as commercial-promotional, given the document they come from."""

    def __init__(self, head: PromoHead, embedder: Any) -> None:
        self.head = head
        self.embedder = embedder

    @property
    def threshold(self) -> float:
        return self.head.threshold

    def with_threshold(self, threshold: float) -> PromoClassifier:
        """Return a classifier that labels from ``threshold`` instead (same encoder)."""
        return PromoClassifier(dataclasses.replace(self.head, threshold=threshold), self.embedder)

    def predict(self, sentences: Sequence[str], document_text: str) -> list[float]:
        """Return calibrated P(promotional) for each sentence of one document.

        Args:
            sentences: Claims from one document.
            document_text: That document's full text, for the page-level cues.

        Returns:
            One probability in [0, 1] per sentence, in order.
        """
        return self.predict_pairs([(s, document_text) for s in sentences])

    def predict_pairs(self, items: Sequence[tuple[str, str]]) -> list[float]:
        """Return calibrated P(promotional) for (sentence, its document's text) pairs.

        Sentences from many documents go through the encoder in one call, which is how
        the pipeline scores a batch of claims.
        """
        if not items:
            return []
        emb = self.embedder.encode([s for s, _ in items])
        cues = np.asarray(
            [sentence_cues(s, document_cues(doc)) for s, doc in items], dtype=np.float32
        ).reshape(len(items), len(CUE_FEATURES))
        z = self.head.logits(emb, cues) / self.head.temperature + self.head.calibration_bias
        return [1.0 / (1.0 + math.exp(-float(v))) for v in np.clip(z, -50.0, 50.0)]

    def commercial_context(self, document_text: str, sentence_probs: Sequence[float]) -> bool:
        """Return whether the page as a whole reads as promotion.

        Args:
            document_text: The page's full text.
            sentence_probs: :meth:`predict` output for the page's claims.
        """
        return commercial_context_from(
            document_cues(document_text), sentence_probs, self.head.threshold
        )


def load_promo_head(path: str | Path) -> PromoHead:
    """Read a head saved by :meth:`PromoHead.save`.

    Raises:
        ModelLoadError: Files are missing, unreadable or inconsistent.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    where = Path(path).expanduser()
    hint = (
        "train one with `claimscan train promo --out DIR` or set CLAIMSCAN_PROMO_MODEL "
        "(--promo-model) to a directory holding head.safetensors and promo.json"
    )
    if not (where / HEAD_FILE).is_file() or not (where / CONFIG_FILE).is_file():
        raise ModelLoadError(f"no promotional head in {str(where)!r}; {hint}")
    try:
        config = json.loads((where / CONFIG_FILE).read_text(encoding="utf-8"))
        tensors = load_file(str(where / HEAD_FILE))
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelLoadError(
            f"cannot read promotional head in {str(where)!r}: {exc}; {hint}"
        ) from exc
    names = tuple(config.get("feature_names", ()))
    if names != CUE_FEATURES:
        raise ModelLoadError(
            f"promotional head in {str(where)!r} was trained with features {list(names)}, "
            f"this claimscan computes {list(CUE_FEATURES)}; retrain with `claimscan train promo`"
        )
    dim = int(config["embedding_dim"])
    weight = tensors["weight"]
    if weight.shape != (dim + len(names),):
        raise ModelLoadError(f"promotional head in {str(where)!r} has a malformed weight; {hint}")
    known = {
        "format_version", "kind", "feature_names", "embedding_dim", "temperature",
        "calibration_bias", "threshold", "base_model",
    }  # fmt: skip
    return PromoHead(
        weight=weight,
        bias=float(tensors["bias"][0]),
        cue_mean=tensors["cue_mean"],
        cue_std=tensors["cue_std"],
        feature_names=names,
        embedding_dim=dim,
        temperature=float(config["temperature"]),
        # Heads saved before Platt scaling carry a temperature only.
        calibration_bias=float(config.get("calibration_bias", 0.0)),
        threshold=float(config["threshold"]),
        base_model=config.get("base_model"),
        metadata={k: v for k, v in config.items() if k not in known},
    )


def load_promo_classifier(path: str | Path, base_model: str | None = None) -> PromoClassifier:
    """Load the promotional head and the encoder it was trained on.

    Args:
        path: Directory with ``head.safetensors`` and ``promo.json``.
        base_model: Encoder to use instead of the one recorded with the head; its
            embedding size must match.

    Returns:
        A ready classifier.

    Raises:
        ModelLoadError: The head or the encoder cannot be loaded, or they do not fit.
    """
    from pipeline.nlp.embed import load_embedder

    head = load_promo_head(path)
    embedder = load_embedder(base_model or head.base_model)
    if embedder.dim != head.embedding_dim:
        raise ModelLoadError(
            f"encoder {embedder.name!r} gives {embedder.dim}-d vectors but the promotional head "
            f"in {str(path)!r} expects {head.embedding_dim}; pass the base model it was "
            "trained on (--base-model) or retrain it"
        )
    return PromoClassifier(head, embedder)
