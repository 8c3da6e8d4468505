from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claims.checkworthy import is_checkworthy, looks_like_heading
from claims.split import claim_from_text, extract_claims, sentence_spans
from claims.types import Claim, Document, SourceKind


def _doc(text: str, headings: tuple[tuple[int, str], ...] = ()) -> Document:
    return Document(
        url="https://example.org/a",
        source="https://example.org/a",
        kind=SourceKind.PAGE,
        title="t",
        text=text,
        author=None,
        published=None,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        headings=headings,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "It heals or it doesn\u2019t. What they rarely hear is this.",
            ["It heals or it doesn\u2019t.", "What they rarely hear is this."],
        ),
        (
            "Dr. Smith et al. reported 3.5 mg doses. Results were clear.",
            ["Dr. Smith et al. reported 3.5 mg doses.", "Results were clear."],
        ),
        (
            "Muscles waste (e.g. the multifidus). Fat follows!",
            ["Muscles waste (e.g. the multifidus).", "Fat follows!"],
        ),
        ("\u2022 Hip Arthritis\n\u2022 Hip Bursitis", ["Hip Arthritis", "Hip Bursitis"]),
        (
            "J. Elliott showed it. \u201cFat infiltrates early.\u201d Then more.",
            ["J. Elliott showed it.", "\u201cFat infiltrates early.\u201d", "Then more."],
        ),
    ],
)
def test_sentence_spans_cut_at_sentence_ends(text: str, expected: list[str]) -> None:
    assert [text[s.start : s.end] for s in sentence_spans(text)] == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Fat infiltration begins as early as two weeks after injury.",
        "Receive a Regenexx\u00ae Patient Info Packet by email and learn why it's a superior "
        "regenerative solution.",
        "Learn about the #1 Stem Cell & Platelet Procedures for treating arthritis.",
        "Spine surgery should be a last resort for anyone, due to its negative effects.",
    ],
)
def test_is_checkworthy_keeps_health_and_promotional_assertions(sentence: str) -> None:
    assert is_checkworthy(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Does fat infiltration cause chronic neck pain in adults?",
        "By Chris Centeno, MD and the clinic team of doctors.",
        "Copyright \u00a9 Regenexx 2019. All rights reserved.",
        "Get fresh updates and insights from Regenexx delivered straight to your inbox.",
        "Watch my video below for more information on the multifidus muscle:",
        "Let's take a look at what can happen to the muscles.",
        "*DISCLAIMER: Like all medical procedures, these have a success and failure rate.",
        "If you have pain, consult with a qualified healthcare provider about options.",
        "The weather was lovely on the day we went to the seaside together.",
        "Muscle pain.",
    ],
)
def test_is_checkworthy_drops_non_claims(sentence: str) -> None:
    assert not is_checkworthy(sentence)


@pytest.mark.parametrize(
    ("line", "heading"),
    [("How the Cycle Begins", True), ("Learn More", True), ("Fat follows injury.", False)],
)
def test_looks_like_heading(line: str, heading: bool) -> None:
    assert looks_like_heading(line) is heading


def test_extract_claims_offsets_are_exact_and_context_kept() -> None:
    text = (
        "How the Cycle Begins\n\nWhiplash injures the deep spinal muscles of the neck. "
        "These muscles then go into spasm and lose their nerve supply.\n\nLearn More"
    )
    claims, dropped = extract_claims(_doc(text, ((0, "How the Cycle Begins"),)))
    assert dropped == 0
    assert [c.text for c in claims] == [
        "Whiplash injures the deep spinal muscles of the neck.",
        "These muscles then go into spasm and lose their nerve supply.",
    ]
    for c in claims:
        assert text[c.start : c.end] == c.text
    assert claims[0].context == "How the Cycle Begins"
    assert "Whiplash injures" in claims[1].context


def test_extract_claims_caps_and_counts_the_rest() -> None:
    text = " ".join(f"Exercise number {i} reduces back pain in adults." for i in range(10))
    claims, dropped = extract_claims(_doc(text), max_claims=3)
    assert len(claims) == 3 and dropped == 7


def test_claim_ids_differ_by_position_not_only_text() -> None:
    text = "Exercise reduces back pain in older adults. Exercise reduces back pain in older adults."
    claims, _ = extract_claims(_doc(text))
    assert len(claims) == 2 and claims[0].id != claims[1].id


def test_claim_from_text_covers_whole_text() -> None:
    c = claim_from_text("Vitamin D prevents colds in children.", "claim:1")
    assert (c.start, c.end) == (0, len(c.text))
    assert c.id == Claim.make_id("claim:1", 0, len(c.text), c.text)


@pytest.mark.parametrize(
    "sentence",
    ["By approximately three months post-injury, the affected muscles have developed scarring."],
)
def test_issue_2_long_sentence_starting_with_by_is_not_a_byline(sentence: str) -> None:
    assert is_checkworthy(sentence)
