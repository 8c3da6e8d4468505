"""Issue 20, part 4: author and date from meta tags, JSON-LD and bylines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.ingest import document_from_bytes
from pipeline.ingest.byline import find_byline, tidy_author
from tests.conftest import DATA, SEED_PAGE, needs_shared

NOW = datetime(2026, 11, 24, tzinfo=UTC)
PAGES = DATA / "pages"


@pytest.mark.parametrize(
    ("name", "author", "published"),
    [
        ("meta_tags.html", "Jane Roe", datetime(2024, 3, 5, tzinfo=UTC)),
        ("json_ld.html", "Sam Lee, MD", datetime(2023, 11, 2, tzinfo=UTC)),
        ("byline.html", "Maria Lopez, PhD", datetime(2024, 3, 12, tzinfo=UTC)),
        ("byline.md", "Tom Baker", datetime(2022, 9, 14, tzinfo=UTC)),
    ],
)
def test_page_metadata_from_each_place_it_is_given(
    name: str, author: str, published: datetime
) -> None:
    (doc,) = document_from_bytes((PAGES / name).read_bytes(), name, NOW)
    assert doc.author == author
    assert doc.published is not None and doc.published.date() == published.date()


@needs_shared
def test_issue_20_clinic_seed_author_from_its_byline() -> None:
    (doc,) = document_from_bytes(SEED_PAGE.read_bytes(), str(SEED_PAGE), NOW)
    assert doc.author == "Chris Centeno, MD"
    # The page gives no date; its footer's "Copyright © Regenexx 2019" is not one.
    assert doc.published is None


@pytest.mark.parametrize(
    ("text", "author", "published"),
    [
        ("Title\n\nBy Chris Centeno, MD /\n\nText.", "Chris Centeno, MD", None),
        ("T\nBy Jane Doe and John Roe | March 4, 2022\n", "Jane Doe and John Roe", (2022, 3, 4)),
        (
            "T\nWritten by: Dr. Ann Smith, PhD\nPosted on 2019-05-06\n",
            "Dr. Ann Smith, PhD",
            (2019, 5, 6),
        ),
        ("T\nBy Ludwig van Beethoven — 1 Sept 2020\n", "Ludwig van Beethoven", (2020, 9, 1)),
        # An update date counts only when nothing says when it was published.
        ("T\nUpdated 3 February 2021\nPublished: Jan 2, 2020\n", None, (2020, 1, 2)),
        ("T\nUpdated 3 February 2021\n", None, (2021, 2, 3)),
        # Sentences that start with "By" are not bylines.
        ("T\nBy 2030, most adults will be overweight.\n", None, None),
        ("T\nBy Monday, you should rest more.\n", None, None),
        ("T\nBy the way, this is prose.\n", None, None),
        # Dates in prose or footers are not publication dates.
        ("T\nThe trial ran from March 4, 2019 to the end of the following year.\n", None, None),
        ("T\n" + "Line.\n" * 20 + "By Late Author\n", None, None),
    ],
)
def test_find_byline(text: str, author: str | None, published: tuple[int, ...] | None) -> None:
    found_author, found_date = find_byline(text)
    assert found_author == author
    assert found_date == (datetime(*published, tzinfo=UTC) if published else None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Chris Centeno; MD", "Chris Centeno, MD"),
        ("Ann Bell; Bob Jones; PhD", "Ann Bell; Bob Jones, PhD"),
        ("Maria Lopez; PhD; Published", "Maria Lopez, PhD"),
        ("", None),
        (None, None),
    ],
)
def test_tidy_author_puts_credentials_back(raw: str | None, expected: str | None) -> None:
    assert tidy_author(raw) == expected
