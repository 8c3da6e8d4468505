"""Author and date from an article's byline ("By Chris Centeno, MD / May 6, 2019"). Pure.

Pages usually state them in meta tags or JSON-LD, which trafilatura reads; plain text
(a scraped page saved to a file, a Markdown draft) and pages without metadata only say
them in a byline near the top. Only the first lines are read, and only lines short
enough to be a byline, so a sentence such as "By 2030, most adults..." or "Copyright
2019" in a footer is never taken for one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["find_byline", "tidy_author"]

HEAD_LINES = 12
"""Non-empty lines from the top that may hold the byline or the date."""

MAX_LINE = 120
"""Longer lines are prose, not bylines."""

# Titles and degrees that follow a name after a comma: "Chris Centeno, MD".
_CREDENTIALS = frozenset(
    "md phd do dc dds dmd rn np pa pa-c pt dpt nd rd mph ms msc bsc ma mba mbbs frcp facs "
    "facp lac cscs jr sr ii iii".split()
)
# Lower-case words that may sit inside a name: "Ludwig van Beethoven".
_PARTICLES = frozenset("and de da del della der di du la le van von y bin ibn st.".split())
_BY = re.compile(r"^\s*(?:by|written by|words by|author|authors)\s*:?\s+(?P<rest>.+)$", re.I)
# Where a byline's name ends: a separator, or the start of a date or a "posted" note.
_NAME_END = re.compile(
    r"\s+[/|•·–—-]\s*|\s+(?:on|posted|published|updated|last)\b|\s+\d|,\s*\d|\s*$", re.I
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATES = (
    re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b"),
    re.compile(
        rf"\b(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH})\.?,?\s+(?P<y>(?:19|20)\d\d)\b",
        re.I,
    ),
)
# A line that is a date and little else: "March 4, 2022", "Posted on 2019-05-06".
_DATE_LINE = re.compile(
    r"^\s*(?:(?:posted|published|date|updated)\s*(?:on)?\s*:?\s*)?(?P<date>.{6,30})$", re.I
)
_NOT_A_NAME = re.compile(r"\d|^(?:posted|published|updated|on|by|date)\b", re.I)
_UPDATED = re.compile(r"\b(?:updated|modified|last reviewed)\b", re.I)


def tidy_author(name: str | None) -> str | None:
    """Put credentials back on their names and tidy spacing.

    trafilatura joins several authors with ``"; "`` and splits at commas, so "Chris
    Centeno, MD" comes back as ``"Chris Centeno; MD"``; from a byline such as "By Maria
    Lopez, PhD | Published 12 March 2024" it may keep "Published" as a third author.

    Args:
        name: An author string as extracted, or None.

    Returns:
        The tidied author string, or None for an empty one.
    """
    if not name:
        return None
    merged: list[str] = []
    for part in (p.strip() for p in name.split(";")):
        if not part or _NOT_A_NAME.search(part):
            continue
        if merged and part.casefold().rstrip(".") in _CREDENTIALS:
            merged[-1] = f"{merged[-1]}, {part}"
        else:
            merged.append(part)
    return "; ".join(merged) or None


def _name(rest: str) -> str | None:
    """The name at the start of what follows "By", or None if it does not look like one."""
    end = _NAME_END.search(rest)
    name = rest[: end.start()] if end else rest
    # Credentials after a comma belong to the name: "Chris Centeno, MD".
    pieces = [p.strip() for p in name.split(",")]
    kept = [pieces[0]]
    for piece in pieces[1:]:
        if piece.casefold().rstrip(".") not in _CREDENTIALS:
            break
        kept.append(piece)
    words = kept[0].split()
    if not 2 <= len(words) <= 6:
        return None
    for word in words:
        if word.casefold() in _PARTICLES:
            continue
        if not word[0].isupper():
            return None
    return ", ".join(kept).strip(" ,/|")


def _date(line: str) -> datetime | None:
    for pattern in _DATES:
        match = pattern.search(line)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["m"]) if parts.get("m") else _MONTHS[parts["mon"].casefold()]
        try:
            return datetime(int(parts["y"]), month, int(parts["d"]), tzinfo=UTC)
        except ValueError:
            continue
    return None


def find_byline(text: str) -> tuple[str | None, datetime | None]:
    """Find the author and publication date stated near the top of an article.

    Args:
        text: The article text (its first lines are read).

    Returns:
        ``(author, published)``; either is None when the top of the text does not
        state it. A date marked as an update is used only when no other is given.
    """
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    lines = [line.strip() for line in text.splitlines() if line.strip()][:HEAD_LINES]
    for line in lines:
        if len(line) > MAX_LINE:
            continue
        by = _BY.match(line)
        if by and author is None:
            author = _name(by.group("rest"))
            if author is None:
                continue
        elif not _DATE_LINE.match(line):
            continue
        when = _date(line)
        if when is None:
            continue
        if _UPDATED.search(line):
            updated = updated or when
        else:
            published = published or when
    return author, published or updated
