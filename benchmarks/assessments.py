"""Store what the models said about benchmark claims, so labelling can be refit offline.

Checking a claim through retrieval and the stance model is the expensive part of every
claim-level benchmark (minutes per hundred claims on two cores); labelling it from the
scored evidence is pure and instant. :func:`dump` writes the first, per claim, as JSON
lines; :func:`load` gives back the inputs :func:`claims.verdict.decide` takes, so
thresholds and calibrations are fitted and measured on the real labelling steps without
running a model again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from claims.split import claim_from_text
from claims.types import Article, Claim, EvidenceStatus, Retrieval
from claims.verdict import ScoredSentence

Inputs = tuple[Claim, Retrieval | None, list[ScoredSentence], float]


def _article(a: Article) -> dict[str, Any]:
    return {"pmid": a.pmid, "title": a.title, "types": list(a.publication_types), "year": a.year}


def dump(path: Path, inputs: Sequence[Inputs], extra: Sequence[dict[str, Any]]) -> None:
    """Write one line per claim: its text, retrieval, scored evidence, P(promotional)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for (claim, retrieval, scored, q), more in zip(inputs, extra, strict=True):
            row = {
                "text": claim.text,
                "promo": q,
                "status": retrieval.status.value if retrieval else None,
                "query": retrieval.query if retrieval else "",
                "error": retrieval.error if retrieval else None,
                "articles": [_article(a) for a in retrieval.articles] if retrieval else [],
                "scored": [
                    {
                        "article": _article(s.article),
                        "sentence": s.sentence,
                        "relevance": s.relevance,
                        "p": [s.supports, s.refutes, s.neutral],
                    }
                    for s in scored
                ],
                **more,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _to_article(d: dict[str, Any]) -> Article:
    return Article(d["pmid"], d["title"], (), "", d.get("year"), tuple(d.get("types", ())))


def load(path: Path) -> tuple[list[Inputs], list[dict[str, Any]]]:
    """Read a file written by :func:`dump`: the decide inputs and each row's extras."""
    inputs: list[Inputs] = []
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            row = json.loads(line)
            claim = claim_from_text(row["text"], f"claim:{n}")
            retrieval = None
            if row["status"] is not None:
                retrieval = Retrieval(
                    claim.id,
                    row["query"],
                    (row["query"],) if row["query"] else (),
                    tuple(_to_article(a) for a in row["articles"]),
                    EvidenceStatus(row["status"]),
                    error=row["error"],
                )
            scored = [
                ScoredSentence(_to_article(s["article"]), s["sentence"], s["relevance"], *s["p"])
                for s in row["scored"]
            ]
            inputs.append((claim, retrieval, scored, float(row["promo"])))
            rows.append(row)
    return inputs, rows
