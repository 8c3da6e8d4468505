"""Helpers every renderer shares: the label table, context lines, names fit to share."""

from __future__ import annotations

import pytest

from claims.types import Claim, Failure, Label, Stage
from pipeline.report._common import (
    LABEL_LOOKS,
    LABEL_ORDER,
    context_line,
    failure_text,
    model_names,
    shared_name,
)


def test_every_label_has_one_look_and_a_place_in_the_order() -> None:
    assert set(LABEL_LOOKS) == set(Label)
    assert sorted(LABEL_ORDER, key=str) == sorted(Label, key=str)
    letters = [look.letter for look in LABEL_LOOKS.values()]
    assert len(set(letters)) == len(letters)


def _lum(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    lo, hi = sorted((_lum(a), _lum(b)))
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("label", list(Label), ids=lambda label: label.value)
def test_terminal_colours_read_on_dark_and_light_themes(label: Label) -> None:
    look = LABEL_LOOKS[label]
    # Black, a typical dark theme's background, and white.
    assert _contrast(look.terminal, "#000000") >= 4.5
    assert _contrast(look.terminal, "#1e1e1e") >= 3.0
    assert _contrast(look.terminal, "#ffffff") >= 4.5
    assert _contrast(look.ink, "#ffffff") >= 4.5


TEXT = (
    "Spine\n\n"
    "Many spine injuries are good candidates for treatment. "
    "Spine surgery should be a last resort. "
    "And epidural steroid injections are problematic.\n\n"
    "Knees\n\n"
    "Knees are the target of many common sports injuries. "
    "Sadly, they are also the target of surgeries.\n\n"
    "By Chris Centeno, MD /\n\n"
    "Receive a packet by email."
)


def _claim(sentence: str, context: str) -> Claim:
    start = TEXT.index(sentence)
    return Claim("c", sentence, "u", start, start + len(sentence), context=context)


@pytest.mark.parametrize(
    ("sentence", "context", "expected"),
    [
        # The sentence repeats the heading's word: the heading goes (#20).
        (
            "And epidural steroid injections are problematic.",
            "Spine Spine surgery should be a last resort.",
            "Spine surgery should be a last resort.",
        ),
        (
            "Sadly, they are also the target of surgeries.",
            "Knees Knees are the target of many common sports injuries.",
            "Knees are the target of many common sports injuries.",
        ),
        # Otherwise heading and sentence are told apart.
        (
            "Spine surgery should be a last resort.",
            "Spine Many spine injuries are good candidates for treatment.",
            "Spine › Many spine injuries are good candidates for treatment.",
        ),
        # A heading alone, even one with spaces, stays as it is.
        ("Receive a packet by email.", "By Chris Centeno, MD /", "By Chris Centeno, MD /"),
        ("Many spine injuries are good candidates for treatment.", "Spine", "Spine"),
        ("Many spine injuries are good candidates for treatment.", "", ""),
    ],
)
def test_context_line_has_no_repeated_words(sentence: str, context: str, expected: str) -> None:
    assert context_line(TEXT, _claim(sentence, context)) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            "stance=/home/alice/claimscan/pipeline/models/stance, encoder=all-MiniLM-L6-v2",
            "stance=stance, encoder=all-MiniLM-L6-v2",
        ),
        ("stance=cross-encoder/nli-deberta-v3-small", "stance=cross-encoder/nli-deberta-v3-small"),
        ("stance=./runs/mine/, encoder=~/models/enc", "stance=mine, encoder=enc"),
        ("stance=C:\\Users\\bob\\models\\stance", "stance=stance"),
        ("stance-minilm-v1", "stance-minilm-v1"),
    ],
)
def test_model_names_leave_no_local_path(model: str, expected: str) -> None:
    assert model_names(model) == expected


@pytest.mark.parametrize(
    ("locator", "expected"),
    [
        ("/home/alice/drafts/a.txt", "a.txt"),
        ("notes/a.md", "a.md"),
        ("https://example.org/a/b.html", "https://example.org/a/b.html"),
        ("<stdin>", "<stdin>"),
        ("claim:3", "claim:3"),
    ],
)
def test_shared_name(locator: str, expected: str) -> None:
    assert shared_name(locator) == expected


@pytest.mark.parametrize(
    ("subject", "message", "expected"),
    [
        (
            "notes/empty.txt",
            "notes/empty.txt: the content is empty; nothing to check",
            "notes/empty.txt: the content is empty; nothing to check",
        ),
        ("claim:2", "claim:2 is empty", "claim:2 is empty"),
        ("Coffee is good.", "esearch returned 503", "Coffee is good.: esearch returned 503"),
    ],
)
def test_failure_text_names_the_subject_once(subject: str, message: str, expected: str) -> None:
    assert failure_text(Failure(Stage.INGEST, subject, "PageError", message)) == expected
