"""The stance training pack: every stage's pairs, built once on a CPU, read anywhere.

``claimscan train stance`` trains in stages (``intermediate`` on NLI and fact-checking
sets, then ``in-domain`` on SciFact and HealthVer). Building the pairs reads seven
datasets and runs the retrieval path over the training claims to mine hard negatives,
which needs the embedded encoder; a GPU machine has neither the data nor the package.
So the pairs are written to one gzipped JSON-lines file that the training step reads,
on this machine or another.

Splits in a pack:

- ``intermediate``: FEVER-RTE, Climate-FEVER, NLI4CT, curriculum probes
  (:mod:`pipeline.train.nli`), COVID-Fact and Check-COVID training claims.
- ``in-domain``: SciFact and HealthVer (MultiVerS) training claims: rationale pairs,
  other sentences of their abstracts, **hard negatives** (the sentences the retrieval
  path ranks highest in retrieved abstracts that are not the claim's evidence, as
  neutral), and the same claims read against whole-abstract passages.
- ``flips``: supported in-domain claims with their direction word reversed, as
  refutations (an option of the recipe, not on by default).
- ``validation``: the same constructions for claims in our validation split
  (:func:`pipeline.train.data.is_validation_claim`) of SciFact, HealthVer and
  Check-COVID; no validation claim is in any training split.
- ``distill``: unlabelled (claim, sentence) pairs as the retrieval path produces them,
  for a teacher to label when a smaller student is distilled.

HealthVer's dev claims (``healthver_dev.csv`` and MultiVerS dev) and Check-COVID's dev
claims are benchmarks and never enter a pack.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claims.types import Article, Claim, EvidenceStatus, Retrieval, Stance
from pipeline.errors import ConfigError
from pipeline.evidence import EvidenceSelector, abstract_passage, lexical_scores
from pipeline.files import atomic_write_bytes
from pipeline.train.data import (
    direction_flips,
    heldout_claims,
    is_validation_claim,
    load_covidfact,
    normalise_claim,
    parse_label,
)
from pipeline.train.nli import NEUTRAL, TrainPair, iter_nli

SPLITS = ("intermediate", "in-domain", "flips", "validation", "distill")
PACK_VERSION = 1
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Doc:
    """One abstract of a dataset corpus."""

    doc_id: str
    title: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelledClaim:
    """A dataset claim, its gold evidence and the abstracts it was judged against."""

    text: str
    source: str
    evidence: dict[str, tuple[str, tuple[int, ...]]]
    """doc_id → (label value, rationale sentence indices)."""
    candidates: tuple[str, ...]
    """Abstracts annotators read for it (cited or candidate doc_ids)."""
    corpus: str
    """Name of the corpus its doc_ids index."""


@dataclass(slots=True)
class StancePack:
    """Pairs per split. Created by :func:`build_pack`, stored by :func:`write_pack`."""

    splits: dict[str, list[TrainPair]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    meta: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        return {s: dict(Counter(p.label for p in pairs)) for s, pairs in self.splits.items()}


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_corpus(path: Path, id_key: str = "doc_id") -> dict[str, Doc]:
    return {
        str(d[id_key]): Doc(
            str(d[id_key]), _clean(d.get("title", "")), tuple(_clean(s) for s in d["abstract"])
        )
        for d in _read_jsonl(path)
    }


def _multivers_claims(path: Path, source: str, corpus: str, docs_key: str) -> list[LabelledClaim]:
    out = []
    for row in _read_jsonl(path):
        evidence: dict[str, tuple[str, tuple[int, ...]]] = {}
        for doc_id, sets in row["evidence"].items():
            labels = {parse_label(s["label"]) for s in sets}
            if len(labels) != 1:
                continue
            idx = tuple(sorted({i for s in sets for i in s["sentences"]}))
            evidence[str(doc_id)] = (labels.pop().value, idx)
        out.append(
            LabelledClaim(
                _clean(row["claim"]),
                source,
                evidence,
                tuple(str(d) for d in row[docs_key]),
                corpus,
            )
        )
    return out


def _checkcovid_claims(path: Path) -> list[LabelledClaim]:
    out = []
    for row in _read_jsonl(path):
        idx = tuple(sorted({e["sent_index"] for e in row["evidence_set"]}))
        label = parse_label(row["label"]).value
        evidence = {row["cord_id"]: (label, idx)} if idx else {}
        out.append(
            LabelledClaim(
                _clean(row["claim"]), "checkcovid", evidence, (row["cord_id"],), "checkcovid"
            )
        )
    return out


class LexicalIndex:
    """BM25 over whole abstracts (title + sentences), an inverted index for speed.

    Stands in for PubMed's search when mining hard negatives: what matters is that
    the abstracts returned share the claim's words, as PubMed's hits do.
    """

    def __init__(self, docs: Iterable[Doc], k1: float = 1.2, b: float = 0.75) -> None:
        self.ids: list[str] = []
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for n, doc in enumerate(docs):
            terms = _WORD.findall(f"{doc.title} {' '.join(doc.sentences)}".lower())
            self.ids.append(doc.doc_id)
            self.lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                self.postings[term].append((n, tf))
        self.avg = sum(self.lengths) / max(1, len(self.lengths))
        self.k1, self.b = k1, b

    def search(self, query: str, k: int) -> list[str]:
        n = len(self.ids)
        scores: dict[int, float] = defaultdict(float)
        for term in set(_WORD.findall(query.lower())):
            posting = self.postings.get(term, [])
            if not posting or len(posting) > n / 2:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, tf in posting:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / self.avg)
                scores[doc] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = sorted(scores, key=lambda d: -scores[d])[:k]
        return [self.ids[d] for d in best]


def _article(doc: Doc) -> Article:
    return Article(doc.doc_id, doc.title, doc.sentences, "", None)


def _ranked_sentences(claim: str, doc: Doc) -> list[int]:
    scores = lexical_scores(claim, doc.sentences)
    return sorted(range(len(doc.sentences)), key=lambda i: -scores[i])


def _passage(claim: str, doc: Doc, first: Sequence[int] = ()) -> str:
    order = [*first, *(i for i in _ranked_sentences(claim, doc) if i not in first)]
    return abstract_passage(doc.title, doc.sentences, order)


def _lexical_select(
    claim: str, docs: Sequence[Doc], per_doc: int = 2, keep: int = 8
) -> list[tuple[str, str]]:
    """The best sentences of retrieved abstracts by term overlap, as (doc_id, sentence)."""
    scored: list[tuple[float, str, str]] = []
    for doc in docs:
        sentences = [s for s in (doc.title, *doc.sentences) if len(s.split()) >= 4]
        scores = lexical_scores(claim, sentences)
        best = sorted(range(len(sentences)), key=lambda i: -scores[i])[:per_doc]
        scored.extend((scores[i], doc.doc_id, sentences[i]) for i in best)
    scored.sort(key=lambda t: -t[0])
    return [(d, s) for _, d, s in scored[:keep]]


def _claim_pairs(
    lc: LabelledClaim,
    corpus: dict[str, Doc],
    retrieved: Sequence[str],
    selected: Sequence[tuple[str, str]],
    *,
    passages: bool,
) -> list[TrainPair]:
    """Sentence and passage pairs for one claim (see the module docstring)."""
    pairs: list[TrainPair] = []
    src = lc.source
    for doc_id, (label, idx) in lc.evidence.items():
        doc = corpus.get(doc_id)
        idx = tuple(i for i in idx if 0 <= i < len(doc.sentences)) if doc else ()
        if doc is None or not idx:
            continue
        text = " ".join(doc.sentences[i] for i in idx)
        pairs.append(TrainPair(lc.text, text, label, src))
        for i, s in enumerate(doc.sentences):
            if i not in idx and len(s.split()) >= 4:
                pairs.append(TrainPair(lc.text, s, NEUTRAL, f"{src}-abstract"))
        if passages:
            pairs.append(TrainPair(lc.text, _passage(lc.text, doc, idx), label, src, "abstract"))
    gold = set(lc.evidence)
    for doc_id in lc.candidates:
        doc = corpus.get(doc_id)
        if doc is None or doc_id in gold:
            continue
        pairs.extend(
            TrainPair(lc.text, s, NEUTRAL, f"{src}-abstract")
            for s in doc.sentences
            if len(s.split()) >= 4
        )
        if passages:
            pairs.append(TrainPair(lc.text, _passage(lc.text, doc), NEUTRAL, src, "abstract"))
    for doc_id, sentence in selected:
        if doc_id not in gold:
            pairs.append(TrainPair(lc.text, sentence, NEUTRAL, f"{src}-hard"))
    if passages:
        for doc_id in [d for d in retrieved if d not in gold][:1]:
            doc = corpus[doc_id]
            pairs.append(
                TrainPair(lc.text, _passage(lc.text, doc), NEUTRAL, f"{src}-hard", "abstract")
            )
    return pairs


def _balance(pairs: list[TrainPair], neutral_ratio: float, seed: int) -> list[TrainPair]:
    """Keep every labelled pair and passage, and sample sentence neutrals to a budget.

    The neutral budget is ``neutral_ratio`` × the labelled pairs, half of it hard
    negatives from retrieved abstracts and half other sentences of the claim's own
    abstracts: both are on topic without deciding the claim, which is what the model
    must learn to call neutral (SciFact-Open found negative sampling moves results
    more than architecture). Either half lends its unused room to the other.
    """
    rng = random.Random(seed)
    labelled = sum(1 for p in pairs if p.label != NEUTRAL)
    always = {i for i, p in enumerate(pairs) if p.label != NEUTRAL or p.unit == "abstract"}
    hard = [i for i, p in enumerate(pairs) if i not in always and p.source.endswith("-hard")]
    easy = [i for i, p in enumerate(pairs) if i not in always and not p.source.endswith("-hard")]
    budget = round(labelled * neutral_ratio)
    n_hard = min(len(hard), max(budget // 2, budget - len(easy)))
    n_easy = min(len(easy), budget - n_hard)
    chosen = always | set(rng.sample(hard, n_hard)) | set(rng.sample(easy, n_easy))
    return [p for i, p in enumerate(pairs) if i in chosen]


Progress = Callable[[str], None]


def build_pack(
    data_dir: Path,
    *,
    selector: EvidenceSelector | None,
    mine: bool = True,
    seed: int = 13,
    neutral_ratio: float = 1.0,
    curriculum_per_task: int = 600,
    retrieved_per_claim: int = 5,
    log: Progress = lambda _: None,
) -> StancePack:
    """Read every dataset under ``data_dir`` and build the pack's splits.

    Args:
        data_dir: A folder laid out like ``shared/data``.
        selector: The runtime evidence selector (embedded encoder) to rank the mined
            sentences with; None ranks them by term overlap alone, which on two CPU
            cores is minutes instead of an hour and picks much the same sentences.
        mine: Retrieve abstracts for every claim to take hard negatives and
            distillation pairs from; False skips both (tests, quick probes).
        seed: Seed for every sample.
        neutral_ratio: Easy neutral pairs kept per labelled pair (hard negatives on top).
        curriculum_per_task: Pairs sampled from each curriculum probe.
        retrieved_per_claim: Abstracts retrieved per claim when mining.
        log: Called with a line of progress now and then.

    Raises:
        ConfigError: A dataset folder is missing.
    """
    try:
        corpora = {
            "scifact": load_corpus(data_dir / "scifact" / "corpus.jsonl"),
            "healthver": load_corpus(data_dir / "healthver" / "multivers" / "corpus.jsonl"),
            "checkcovid": load_corpus(data_dir / "checkcovid" / "corpus.json", "cord_id"),
        }
        claims = [
            *_multivers_claims(
                data_dir / "scifact" / "claims_train.jsonl", "scifact", "scifact", "cited_doc_ids"
            ),
            *_multivers_claims(
                data_dir / "healthver" / "multivers" / "claims_train.jsonl",
                "healthver",
                "healthver",
                "doc_ids",
            ),
            *_checkcovid_claims(
                data_dir / "checkcovid" / "train" / "covidCheck_train_composed+extracted.json"
            ),
        ]
        covidfact = load_covidfact(data_dir / "covidfact" / "train.tsv")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"training data is incomplete: {exc.filename} is missing; point --data at a copy "
            "of shared/data"
        ) from exc
    heldout = {normalise_claim(c) for c in heldout_claims(data_dir)}
    for name in ("claims_dev.jsonl",):
        path = data_dir / "healthver" / "multivers" / name
        if path.exists():
            heldout |= {normalise_claim(r["claim"]) for r in _read_jsonl(path)}
    claims = [c for c in claims if normalise_claim(c.text) not in heldout]
    log(f"{len(claims)} labelled claims read")

    retrieved: dict[int, list[str]] = {}
    selected: dict[int, list[tuple[str, str]]] = {}
    pack = StancePack()
    if mine and selector is None:
        indexes = {name: LexicalIndex(docs.values()) for name, docs in corpora.items()}
        for n, lc in enumerate(claims):
            retrieved[n] = indexes[lc.corpus].search(lc.text, retrieved_per_claim)
            selected[n] = _lexical_select(lc.text, [corpora[lc.corpus][d] for d in retrieved[n]])
            pack.splits["distill"].extend(
                TrainPair(lc.text, sentence, NEUTRAL, f"{lc.source}-distill")
                for _, sentence in selected[n]
            )
    elif mine and selector is not None:
        indexes = {name: LexicalIndex(docs.values()) for name, docs in corpora.items()}
        for lo in range(0, len(claims), 64):
            batch = list(enumerate(claims))[lo : lo + 64]
            fake_claims = []
            found: dict[str, Retrieval] = {}
            for n, lc in batch:
                retrieved[n] = indexes[lc.corpus].search(lc.text, retrieved_per_claim)
                cid = f"pack:{n}"
                fake_claims.append(Claim(cid, lc.text, "pack", 0, len(lc.text)))
                found[cid] = Retrieval(
                    cid,
                    "",
                    (),
                    tuple(_article(corpora[lc.corpus][d]) for d in retrieved[n]),
                    EvidenceStatus.FOUND,
                )
            candidates = selector.select(fake_claims, found)
            for (n, lc), fc in zip(batch, fake_claims, strict=True):
                selected[n] = [(c.article.pmid, c.sentence) for c in candidates[fc.id]]
                pack.splits["distill"].extend(
                    TrainPair(lc.text, c.sentence, NEUTRAL, f"{lc.source}-distill")
                    for c in candidates[fc.id]
                )
            if lo % 640 == 0:
                log(f"mined {lo + len(batch)}/{len(claims)} claims")

    train_domain: list[TrainPair] = []
    train_cc: list[TrainPair] = []
    val: list[TrainPair] = []
    for n, lc in enumerate(claims):
        # Hard negatives come from a few top sentences, as the verdict reads them.
        pairs = _claim_pairs(
            lc,
            corpora[lc.corpus],
            retrieved.get(n, []),
            selected.get(n, [])[:4],
            passages=lc.source != "checkcovid",
        )
        if is_validation_claim(lc.text):
            val.extend(pairs)
        elif lc.source == "checkcovid":
            train_cc.extend(pairs)
        else:
            train_domain.extend(pairs)
    pack.splits["in-domain"] = _balance(train_domain, neutral_ratio, seed)
    pack.splits["validation"] = _balance(val, neutral_ratio, seed)
    intermediate = list(iter_nli(data_dir, curriculum_per_task=curriculum_per_task, seed=seed))
    intermediate += _balance(train_cc, neutral_ratio, seed)
    intermediate += [
        TrainPair(p.claim, p.evidence, p.label.value, "covidfact")
        for p in covidfact
        if not is_validation_claim(p.claim) and normalise_claim(p.claim) not in heldout
    ]
    pack.splits["intermediate"] = intermediate
    supported = [
        _stance_pair(p) for p in pack.splits["in-domain"] if p.label == Stance.SUPPORTS.value
    ]
    pack.splits["flips"] = [
        TrainPair(f.claim, f.evidence, f.label.value, f.source)
        for f in direction_flips(s for s in supported if s is not None)
    ]
    pack.meta = {"version": PACK_VERSION, "seed": seed, "neutral_ratio": neutral_ratio}
    log(f"pack: {pack.counts()}")
    return pack


def _stance_pair(p: TrainPair) -> Any:
    from pipeline.train.data import StancePair

    if p.unit != "sentence":
        return None
    return StancePair(p.claim, p.evidence, Stance(p.label), p.source)


def write_pack(pack: StancePack, path: Path) -> None:
    """Write the pack as gzipped JSON lines, atomically."""
    lines = [json.dumps({"meta": pack.meta})]
    for split, pairs in pack.splits.items():
        lines.extend(json.dumps({"split": split, **p.as_json()}, ensure_ascii=False) for p in pairs)
    # mtime=0: the same pack gives the same bytes, so a copy can be checked by digest.
    data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0)
    atomic_write_bytes(path, data)


def read_pack(path: Path) -> StancePack:
    """Read a pack written by :func:`write_pack`.

    Raises:
        ConfigError: The file is missing or not a pack of this version.
    """
    pack = StancePack()
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            head = json.loads(fh.readline())
            pack.meta = head["meta"]
            if pack.meta.get("version") != PACK_VERSION:
                raise ConfigError(f"{str(path)!r} is a pack of another version; rebuild it")
            for line in fh:
                row = json.loads(line)
                pack.splits.setdefault(row["split"], []).append(TrainPair.from_json(row))
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read training pack {str(path)!r}: {exc}") from exc
    return pack
