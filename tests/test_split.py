from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from claims.checkworthy import (
    first_cut,
    is_checkworthy,
    looks_like_heading,
    needs_referent,
    referent_context,
)
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
    # The first names its own subject; "These muscles" points back to the sentence before.
    assert claims[0].context == ""
    assert claims[1].context == "Whiplash injures the deep spinal muscles of the neck."


def test_extract_claims_caps_and_counts_the_rest() -> None:
    text = " ".join(f"Exercise number {i} reduces back pain in adults." for i in range(10))
    claims, dropped = extract_claims(_doc(text), max_claims=3)
    assert len(claims) == 3 and dropped == 7


def test_issue_14_repeated_sentence_is_one_claim_with_every_offset() -> None:
    sentence = "Exercise reduces back pain in older adults."
    # A page with tabs repeats a passage, here with other spacing.
    repeat = "Exercise  reduces back pain in older adults."
    text = f"{sentence} Fat follows injury in weeks.\n\nTab two\n\n{repeat}"
    claims, dropped = extract_claims(_doc(text))
    assert dropped == 0
    first = [c for c in claims if c.text == sentence]
    assert len(first) == 1
    ((start, end),) = first[0].also_at
    assert text[start:end] == repeat
    assert first[0].start == 0


def test_claim_ids_differ_by_document_not_only_text() -> None:
    text = "Exercise reduces back pain in older adults."
    other = Document(**{**{f: getattr(_doc(text), f) for f in Document.__slots__}, "url": "b"})
    ids = {extract_claims(d)[0][0].id for d in (_doc(text), other)}
    assert len(ids) == 2


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


class KeepWords:
    """A check-worthiness scorer that keeps sentences containing one of some words."""

    def __init__(self, *words: str) -> None:
        self.words = words
        self.seen: list[str] = []

    def checkworthy(self, sentences: Sequence[str], document: Document) -> list[bool]:
        self.seen.extend(sentences)
        return [any(w in s for w in self.words) for s in sentences]


def test_extract_claims_asks_the_scorer_once_per_distinct_sentence() -> None:
    text = (
        "Moderate activity was not associated with fecundability overall. "
        "The body, in a sense, gives up on them. "
        "Moderate activity was not associated with fecundability overall. "
        "Does fat infiltration cause chronic neck pain in adults?"
    )
    scorer = KeepWords("fecundability")
    claims, _ = extract_claims(_doc(text), scorer=scorer)
    # The rules' word list knows no "fecundability"; with a scorer they only make the
    # first cut, which still drops the question before the scorer sees it.
    assert scorer.seen == [
        "Moderate activity was not associated with fecundability overall.",
        "The body, in a sense, gives up on them.",
    ]
    assert [c.text for c in claims] == [scorer.seen[0]]
    assert len(claims[0].also_at) == 1


def test_extract_claims_caps_what_the_scorer_kept() -> None:
    text = " ".join(f"Exercise number {i} reduces back pain in adults." for i in range(6))
    text += " Rhetoric is all this sentence has to say for itself."
    claims, dropped = extract_claims(_doc(text), scorer=KeepWords("Exercise"), max_claims=4)
    assert (len(claims), dropped) == (4, 2)


@pytest.mark.parametrize(
    ("sentence", "points_back"),
    [
        ("It causes direct injury to the deep intrinsic spinal muscles.", True),
        ("They work less well when the tissue has been replaced by scar.", True),
        ("This is not a failure of rehabilitation as a discipline.", True),
        ("These muscles are not designed for such forces.", True),
        ("However, they also provide a counterbalance to the abdominal muscles.", True),
        ("Understanding this cycle is important for treatment.", True),
        ("Fat infiltration begins as early as two weeks after injury.", False),
        ("Its effects on muscle, when it heals, are small.", True),
        ("Whiplash injures the muscles of the neck, and it often lasts.", False),
    ],
)
def test_needs_referent(sentence: str, points_back: bool) -> None:
    assert needs_referent(sentence) is points_back


@pytest.mark.parametrize(
    ("sentence", "previous", "heading", "context"),
    [
        (
            "It transforms into fat.",
            "Injured muscle does not heal.",
            "Title",
            "Injured muscle does not heal.",
        ),
        ("It transforms into fat.", "", "How the Cycle Begins", "How the Cycle Begins"),
        ("Fat infiltration begins early.", "Injured muscle does not heal.", "Title", ""),
    ],
)
def test_referent_context_is_previous_sentence_else_heading(
    sentence: str, previous: str, heading: str, context: str
) -> None:
    assert referent_context(sentence, previous, heading) == context


def test_extract_claims_first_sentence_points_back_to_the_title() -> None:
    claims, _ = extract_claims(_doc("It causes direct injury to the deep spinal muscles."))
    assert claims[0].context == "t"


@pytest.mark.parametrize(
    "sentence", ["Moderate activity was not associated with fecundability overall."]
)
def test_first_cut_leaves_to_the_model_what_the_word_list_misses(sentence: str) -> None:
    assert first_cut(sentence) and not is_checkworthy(sentence)
