"""A claim the page repeats (tabs) is shown at every place; a claim's referent is shown."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from rich.console import Console

from claims.types import (
    CheckedClaim,
    Claim,
    Document,
    DocumentReport,
    EvidenceStatus,
    Label,
    Report,
    SourceKind,
    Verdict,
)
from pipeline.errors import ReportError
from pipeline.report.html import render_html
from pipeline.report.json import dump_report, load_report
from pipeline.report.markdown import render_markdown
from pipeline.report.terminal import render_terminal

REPEATED = "Regenerative procedures can help reduce hip pain."
POINTS_BACK = "It causes direct injury to the deep spinal muscles."
PREVIOUS = "A whiplash event does not just strain the neck."
TEXT = (
    f"Hip\n\n{REPEATED} {PREVIOUS} {POINTS_BACK}\n\n"
    f"Knee\n\nKnees are often injured.\n\nHip again\n\n{REPEATED}"
)


def _checked(sentence: str, context: str = "") -> CheckedClaim:
    start = TEXT.index(sentence)
    later = TEXT.find(sentence, start + 1)
    also_at = ((later, later + len(sentence)),) if later >= 0 else ()
    claim_id = Claim.make_id("https://example.org/page", start, start + len(sentence), sentence)
    return CheckedClaim(
        Claim(
            claim_id,
            sentence,
            "https://example.org/page",
            start,
            start + len(sentence),
            context=context,
            also_at=also_at,
        ),
        Verdict(
            claim_id=claim_id,
            label=Label.CONTESTED,
            confidence=0.7,
            scores={"supported": 0.3, "contested": 0.7, "commercial-promotional": 0.0},
            rationale="The evidence conflicts.",
            query="hip[tiab]",
            evidence=(),
            evidence_status=EvidenceStatus.NONE,
        ),
    )


@pytest.fixture
def repeats() -> Report:
    doc = Document(
        url="https://example.org/page",
        source="https://example.org/page",
        kind=SourceKind.PAGE,
        title="Tabs",
        text=TEXT,
        author=None,
        published=None,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    claims = (_checked(REPEATED), _checked(POINTS_BACK, context=PREVIOUS))
    return Report(datetime(2026, 1, 1, tzinfo=UTC), (DocumentReport(doc, claims),))


def test_json_lists_every_place_and_round_trips(repeats: Report) -> None:
    data = json.loads(dump_report(repeats))
    first, second = data["documents"][0]["claims"]
    start = TEXT.rindex(REPEATED)
    assert first["also_at"] == [[start, start + len(REPEATED)]]
    assert second["also_at"] == [] and second["context"] == PREVIOUS
    assert load_report(dump_report(repeats)) == repeats


def test_json_without_also_at_loads_as_no_repeats(repeats: Report) -> None:
    # Reports written before #14 have no "also_at".
    data = json.loads(dump_report(repeats))
    for claim in data["documents"][0]["claims"]:
        del claim["also_at"]
    loaded = load_report(json.dumps(data))
    assert all(c.claim.also_at == () for c in loaded.documents[0].claims)


@pytest.mark.parametrize("bad", [[[0, 10**6]], [[5]], [["a", "b"]], [[True, 3]], "0-5"])
def test_json_rejects_also_at_that_does_not_fit(repeats: Report, bad: object) -> None:
    data = json.loads(dump_report(repeats))
    data["documents"][0]["claims"][0]["also_at"] = bad
    with pytest.raises(ReportError, match="also_at"):
        load_report(json.dumps(data))


def test_html_highlights_every_place_and_links_them(repeats: Report) -> None:
    html = render_html(repeats)
    assert html.count('href="#card-d1-c1"') == 2
    assert 'id="claim-d1-c1"' in html and 'id="claim-d1-c1-2"' in html
    assert '<a href="#claim-d1-c1-2">2</a>' in html
    assert "1 more time in the text, checked once" in html
    assert f'<p class="card__refers muted">Refers to: {PREVIOUS}</p>' in html


def test_markdown_says_repeated_and_refers_to(repeats: Report) -> None:
    markdown = render_markdown(repeats, details=True)
    assert "- Repeated 1 more time in the text, checked once" in markdown
    assert f"- Refers to: {PREVIOUS}" in markdown


def test_terminal_marks_every_place_and_says_so(repeats: Report) -> None:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_terminal(repeats, console, details=True)
    assert isinstance(console.file, io.StringIO)
    out = console.file.getvalue()
    # The marker appears at both places in the text and once more in the claim list.
    assert out.count("[C1]") == 3
    assert "Repeated 1 more time in the text, checked once" in out
    assert f"Refers to: {PREVIOUS}" in out
