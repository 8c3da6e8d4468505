"""Check-worthiness benchmark: which sentences become claims, on labelled data and the seeds.

Reads ``data/checkworthy/checkworthy.jsonl`` and the two seed documents in
``<repo>/../shared/seeds``; loads the shipped check-worthiness and promotional heads
(or those given). Prints, comparing the rules alone with the rules' first cut plus the
trained head:

1. precision and recall of "checkable" on the test split (never trained or tuned on),
   per corpus and overall, and the share of promotional sentences that still reach the
   promotional head;
2. on the seeds (test documents: only with ``--split test``), what the split stage
   reports against what an editor would check:
   reported claims, checkable and editor-worthy sentences among them, any lost, and
   reported claims per editor-worthy claim (issue 14 asks for at most 3, none lost);
3. the sentences issue 14 names, before and after;
4. repeated sentences folded into one claim, and claims searched with a referent.

Run from the repository root::

    python -m benchmarks.checkworthy
    python -m benchmarks.checkworthy --split val      # while developing; keep test for last
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from claims.checkworthy import first_cut, is_checkworthy
from claims.split import extract_claims
from claims.types import Document
from pipeline.config import DEFAULT_CHECKWORTHY_MODEL, DEFAULT_PROMO_MODEL
from pipeline.ingest import document_from_bytes
from pipeline.nlp.checkworthy import CheckworthyClassifier, load_checkworthy_classifier
from pipeline.nlp.metrics import prf
from pipeline.train.checkworthy import CheckworthyRecord, read_records

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
DATA = ROOT / "data" / "checkworthy" / "checkworthy.jsonl"
MAX_PER_EDITOR_CLAIM = 3.0
"""Issue 14: at most three reported claims per claim an editor would check."""
ISSUE_EXAMPLES = (
    "Most people assume that when a muscle is injured, it either heals or it doesn\u2019t.",
    "The body, in a sense, gives up on them.",
    "This is not a failure of rehabilitation as a discipline.",
    "From this, researchers determined if participants had loss of muscle mass or loss of "
    "muscle strength or neither.",
    "It causes direct injury to the deep intrinsic spinal muscles, the small stabilizing "
    "muscles that run alongside and between vertebrae at every level of the spine.",
)


def _prf(gold: Sequence[int], pred: Sequence[bool]) -> tuple[float, float, int, int]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
    kept, positives = sum(pred), sum(gold)
    m = prf(tp, kept - tp, positives - tp)
    return (m["precision"], m["recall"], kept, positives)


def _labelled(records: Sequence[CheckworthyRecord], classifier: CheckworthyClassifier) -> None:
    passed = [i for i, r in enumerate(records) if first_cut(r.text)]
    probs = dict(
        zip(passed, classifier.probabilities([records[i].text for i in passed]), strict=True)
    )
    head = [probs.get(i, 0.0) >= classifier.threshold for i in range(len(records))]
    rules = [is_checkworthy(r.text) for r in records]
    promo_kept = _promo_kept(records, head, classifier)
    print(f"{'corpus':<12}{'n':>6}{'checkable':>11}   {'rules P / R':>15}   {'head P / R':>15}")
    corpora = sorted({r.corpus for r in records}) + ["all"]
    for corpus in corpora:
        idx = [i for i, r in enumerate(records) if corpus in ("all", r.corpus)]
        gold = [records[i].label for i in idx]
        rp, rr, _, positives = _prf(gold, [rules[i] for i in idx])
        hp, hr, _, _ = _prf(gold, [head[i] for i in idx])
        print(
            f"{corpus:<12}{len(idx):>6}{positives:>11}   {rp:>7.3f} / {rr:.3f}   "
            f"{hp:>7.3f} / {hr:.3f}"
        )
    promotional = [i for i, r in enumerate(records) if r.promotional]
    if promotional and classifier.promo is not None:
        documents = _documents_of(records)
        flags = classifier.promo.predict_pairs(
            [(records[i].text, documents[records[i].source]) for i in promotional]
        )
        flagged = [
            i for i, q in zip(promotional, flags, strict=True) if q >= classifier.promo.threshold
        ]
        print(
            f"annotated promotional: {len(promotional)}; kept by the step "
            f"{sum(promo_kept[i] for i in promotional)} (rules alone "
            f"{sum(rules[i] for i in promotional)}); flagged by the promotional head "
            f"{len(flagged)}, of which kept {sum(promo_kept[i] for i in flagged)}"
        )


def _promo_kept(
    records: Sequence[CheckworthyRecord], head: Sequence[bool], classifier: CheckworthyClassifier
) -> list[bool]:
    """What the whole step keeps: the head's claims plus what the promotional head flags."""
    if classifier.promo is None:
        return list(head)
    keep = list(head)
    documents = _documents_of(records)
    rest = [i for i, k in enumerate(head) if not k and first_cut(records[i].text)]
    probs = classifier.promo.predict_pairs(
        [(records[i].text, documents[records[i].source]) for i in rest]
    )
    for i, q in zip(rest, probs, strict=True):
        keep[i] = q >= classifier.promo.threshold
    return keep


def _documents_of(records: Sequence[CheckworthyRecord]) -> dict[str, str]:
    parts: dict[str, list[str]] = {}
    for r in records:
        parts.setdefault(r.source, []).append(r.text)
    return {source: "\n".join(texts) for source, texts in parts.items()}


def _seed_documents() -> list[Document]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        doc
        for path in sorted(SEEDS.iterdir())
        for doc in document_from_bytes(path.read_bytes(), path.name, now)
    ]


def _seeds(
    records: Sequence[CheckworthyRecord],
    classifier: CheckworthyClassifier,
    thresholds: Sequence[float] = (),
) -> None:
    seed_records = [r for r in records if r.corpus == "seed"]
    checkable = {r.text for r in seed_records if r.label}
    editor = {r.text for r in seed_records if r.editor_check}
    promotional = {r.text for r in seed_records if r.promotional}
    documents = _seed_documents()
    scorers: list[tuple[str, Callable[[Document], list[str]]]] = [
        ("rules alone", lambda d: [c.text for c in extract_claims(d)[0]]),
        ("first cut + head", lambda d: [c.text for c in extract_claims(d, scorer=classifier)[0]]),
    ]
    for t in thresholds:
        scorers.append((f"  head at {t:.2f}", _splitter(classifier.with_threshold(t))))
    print(
        f"seeds: {len(seed_records)} distinct candidate sentences in {len(documents)} "
        f"documents; {len(checkable)} checkable, {len(editor)} an editor would check, "
        f"{len(promotional)} promotional"
    )
    print(
        f"{'split stage':<18}{'reported':>9}{'checkable':>11}{'editor':>8}{'promo':>7}"
        f"{'lost chk':>10}{'lost ed.':>10}{'per editor claim':>18}"
    )
    for name, split in scorers:
        reported = {t for d in documents for t in split(d)}
        lost_editor = sorted(editor - reported)
        ratio = len(reported) / len(editor) if editor else float("inf")
        print(
            f"{name:<18}{len(reported):>9}{len(reported & checkable):>11}"
            f"{len(reported & editor):>8}{len(reported & promotional):>7}"
            f"{len(checkable - reported):>10}{len(lost_editor):>10}{ratio:>18.2f}"
        )
        for text in lost_editor:
            print(f"    lost: {text[:90]}")
    verdict = "met" if _meets(documents, classifier, editor) else "NOT met"
    print(f"issue 14 target (<= {MAX_PER_EDITOR_CLAIM:g} per editor claim, none lost): {verdict}")


def _splitter(scorer: CheckworthyClassifier) -> Callable[[Document], list[str]]:
    def split(doc: Document) -> list[str]:
        return [c.text for c in extract_claims(doc, scorer=scorer)[0]]

    return split


def _meets(
    documents: Sequence[Document], classifier: CheckworthyClassifier, editor: set[str]
) -> bool:
    reported = {c.text for d in documents for c in extract_claims(d, scorer=classifier)[0]}
    return not (editor - reported) and len(reported) <= MAX_PER_EDITOR_CLAIM * len(editor)


def _examples(classifier: CheckworthyClassifier) -> None:
    documents = _seed_documents()
    by_text = {}
    for doc in documents:
        for c in extract_claims(doc, scorer=classifier)[0]:
            by_text[c.text] = c
    probs = classifier.probabilities(list(ISSUE_EXAMPLES))
    print("issue 14 examples         rules  head  P(checkable)  referent")
    for text, p in zip(ISSUE_EXAMPLES, probs, strict=True):
        before = "check" if is_checkworthy(text) else "drop"
        after = "check" if text in by_text else "drop"
        claim = by_text.get(text)
        referent = claim.context[:45] if claim and claim.context else ""
        print(f"  {text[:24]:<24}  {before:>5} {after:>5}  {p:>12.2f}  {referent}")


def _repeats_and_referents(classifier: CheckworthyClassifier) -> None:
    documents = _seed_documents()
    claims = [c for d in documents for c in extract_claims(d, scorer=classifier)[0]]
    repeated = [c for c in claims if c.also_at]
    places = sum(len(c.also_at) for c in repeated)
    print(
        f"seeds: {len(repeated)} claims repeated on their page ({places} further places folded "
        f"in); {sum(bool(c.context) for c in claims)} of {len(claims)} claims carry a referent"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["val", "test"], default="test")
    parser.add_argument("--model", default=str(DEFAULT_CHECKWORTHY_MODEL))
    parser.add_argument("--promo-model", default=str(DEFAULT_PROMO_MODEL))
    parser.add_argument(
        "--thresholds",
        default="",
        help="comma-separated thresholds to show on the seeds besides the head's own "
        "(to see the trade; the shipped one is chosen on training data only)",
    )
    args = parser.parse_args(argv)
    if not DATA.is_file() or not SEEDS.is_dir():
        print(f"needs {DATA} and {SEEDS}", file=sys.stderr)
        return 2
    from pipeline.nlp.promo import load_promo_classifier

    records = read_records(DATA)
    classifier = load_checkworthy_classifier(args.model).with_promo(
        load_promo_classifier(args.promo_model)
    )
    print(f"threshold {classifier.threshold:.2f} (the head's own); {args.split} split\n")
    _labelled([r for r in records if r.split == args.split], classifier)
    if args.split != "test":
        # The seeds are test documents: they wait for the final figure too.
        return 0
    print()
    _seeds(records, classifier, [float(t) for t in args.thresholds.split(",") if t])
    print()
    _examples(classifier)
    print()
    _repeats_and_referents(classifier)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
