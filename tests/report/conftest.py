"""A realistic two-document report, one document full of injection payloads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claims.types import (
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceItem,
    EvidenceStatus,
    Failure,
    Label,
    Report,
    SourceKind,
    Stage,
    Stance,
    Verdict,
)

SCRIPT = "<script>alert(1)</script>"
TITLE_SCRIPT = "<script>document.title='pwned'</script>"
ATTR_BREAK = '" onerror="x'
IMG_PAYLOAD = "<img src=x onerror=\"document.title='pwned'\">"
JS_URL = "javascript:alert(1)"
ANSI = "\x1b[31m"
OSC_LINK = "\x1b]8;;https://evil.example/\x07"

FEED_URL = "https://news.example.org/health/feed.xml"
ARTICLE_URL = "https://news.example.org/health/vitamin-d-winter"

ARTICLE_TEXT = (
    "Vitamin D in winter: what the research says\n\n"
    "Many people take supplements when the days get short. "
    "Vitamin D supplementation reduces the risk of acute respiratory infections. "
    "Doctors say the effect is largest in people who start out deficient.\n\n"
    "Other claims are shakier. "
    "High-dose vitamin D prevents cardiovascular disease in healthy adults. "
    "Large trials have not borne this out.\n\n"
    "A paragraph with no claims in it, about the weather and the long nights, "
    "which a reader of the terminal report does not need to see.\n\n"
    "Our SunBoost drops are the only vitamin D clinically proven to double your immunity. "
    "Order today for 20% off."
)

HOSTILE_TEXT = (
    f"Fish oil {SCRIPT} lowers triglycerides{ANSI} in adults {ATTR_BREAK}. "
    f"Read more at {JS_URL} or [click](javascript:alert(1)) **now** {IMG_PAYLOAD}.\n\n"
    f"{TITLE_SCRIPT} Colloidal silver cures infections {OSC_LINK}overnight."
)


def _span(text: str, sentence: str) -> tuple[int, int]:
    start = text.index(sentence)
    return start, start + len(sentence)


def _checked(
    doc: Document,
    sentence: str,
    label: Label,
    evidence: tuple[EvidenceItem, ...],
    *,
    status: EvidenceStatus = EvidenceStatus.FOUND,
    rationale: str = "",
    context: str = "",
) -> CheckedClaim:
    start, end = _span(doc.text, sentence)
    claim_id = Claim.make_id(doc.url, start, end, sentence)
    scores = {
        "supported": 0.1,
        "contested": 0.1,
        "commercial-promotional": 0.1,
    }
    scores[label.value] = 0.8
    query = f'("{sentence[:30]}")[tiab]'
    return CheckedClaim(
        claim=Claim(claim_id, sentence, doc.url, start, end, context=context),
        verdict=Verdict(
            claim_id=claim_id,
            label=label,
            confidence=0.8,
            scores=scores,
            rationale=rationale or f"{label.value} because of the evidence below.",
            query=query if status is not EvidenceStatus.SKIPPED else "",
            evidence=evidence,
            evidence_status=status,
            model="stance-minilm-v1",
            queries_tried=(query, "vitamin d[tiab]")
            if status is not EvidenceStatus.SKIPPED
            else (),
        ),
    )


def _evidence(
    pmid: str, stance: Stance, sentence: str, *, title: str = "", types: tuple[str, ...] = ()
) -> EvidenceItem:
    return EvidenceItem(
        pmid=pmid,
        title=title or f"A study of vitamin D ({pmid})",
        year=2017,
        journal="BMJ",
        publication_types=types or ("Journal Article", "Meta-Analysis"),
        sentence=sentence,
        stance=stance,
        score=0.91,
    )


def build_report() -> Report:
    """Return the fixture report: a normal article and a hostile feed item."""
    fetched = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    article = Document(
        url=ARTICLE_URL,
        source=FEED_URL,
        kind=SourceKind.FEED,
        title="Vitamin D in winter: what the research says",
        text=ARTICLE_TEXT,
        author="Jane Doe",
        published=datetime(2025, 1, 14, 7, 0, tzinfo=UTC),
        fetched_at=fetched,
        headings=((0, "Vitamin D in winter: what the research says"),),
    )
    article_claims = (
        _checked(
            article,
            "Vitamin D supplementation reduces the risk of acute respiratory infections.",
            Label.SUPPORTED,
            (
                _evidence(
                    "28202713",
                    Stance.SUPPORTS,
                    "Vitamin D supplementation reduced the risk of acute respiratory "
                    "infection among all participants.",
                    title="Vitamin D supplementation to prevent acute respiratory tract "
                    "infections: systematic review and meta-analysis",
                ),
                _evidence(
                    "31234567",
                    Stance.NEUTRAL,
                    "Effects were heterogeneous across trials.",
                    types=("Journal Article", "Randomized Controlled Trial"),
                ),
            ),
            context="Vitamin D in winter",
        ),
        _checked(
            article,
            "High-dose vitamin D prevents cardiovascular disease in healthy adults.",
            Label.CONTESTED,
            (
                _evidence(
                    "30415629",
                    Stance.REFUTES,
                    "Supplementation did not lower the incidence of cardiovascular events.",
                    types=("Journal Article", "Randomized Controlled Trial"),
                ),
                _evidence(
                    "22222222",
                    Stance.SUPPORTS,
                    "Vitamin D lowered cardiovascular events.",
                    title="A retracted trial of vitamin D",
                    types=("Journal Article", "Retracted Publication"),
                ),
            ),
        ),
        _checked(
            article,
            "Our SunBoost drops are the only vitamin D clinically proven to double your immunity.",
            Label.COMMERCIAL_PROMOTIONAL,
            (),
            status=EvidenceStatus.SKIPPED,
            rationale="Brand name, superlative and a call to action nearby.",
        ),
    )
    hostile = Document(
        url=JS_URL,
        source=f"{FEED_URL}?q={SCRIPT}",
        kind=SourceKind.FEED,
        title=f"Fish oil {SCRIPT}{ATTR_BREAK}{ANSI} news {TITLE_SCRIPT}",
        text=HOSTILE_TEXT,
        author=f"{SCRIPT} {ANSI}Mallory{ATTR_BREAK}",
        published=None,
        fetched_at=fetched,
    )
    hostile_sentence = f"Fish oil {SCRIPT} lowers triglycerides{ANSI} in adults {ATTR_BREAK}."
    hostile_claims = (
        _checked(
            hostile,
            hostile_sentence,
            Label.SUPPORTED,
            (
                EvidenceItem(
                    pmid=f"1{SCRIPT}",
                    title=f"Omega-3 {SCRIPT}{ANSI} [x](javascript:alert(1))",
                    year=None,
                    journal=f"J {ATTR_BREAK}",
                    publication_types=(f"{SCRIPT}",),
                    sentence=f"Omega-3 lowered triglycerides {IMG_PAYLOAD}{ANSI}.",
                    stance=Stance.SUPPORTS,
                    score=0.7,
                ),
            ),
            rationale=f"Rationale {SCRIPT} {ANSI}",
        ),
        _checked(
            hostile,
            f"{TITLE_SCRIPT} Colloidal silver cures infections {OSC_LINK}overnight.",
            Label.CONTESTED,
            (),
            status=EvidenceStatus.NONE,
            rationale="No evidence found; unproven cure claims are treated as contested.",
        ),
    )
    return Report(
        generated_at=datetime(2025, 1, 15, 9, 31, 5, tzinfo=UTC),
        documents=(
            DocumentReport(article, article_claims, commercial_context=True, notes=("capped",)),
            DocumentReport(hostile, hostile_claims, notes=(f"note {SCRIPT}",)),
        ),
        failures=(
            Failure(
                stage=Stage.INGEST,
                subject=f"https://dead.example.org/feed{ANSI}",
                error_type="FeedError",
                message=f"feed returned 404 {SCRIPT}; check the URL",
            ),
        ),
        sources=(FEED_URL,),
    )


@pytest.fixture
def report() -> Report:
    """The fixture report."""
    return build_report()
