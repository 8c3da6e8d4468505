"""Turn bytes into clean text: decoding, HTML fragments to paragraphs, content sniffing. Pure.

Offsets in reports refer to the text these functions return, so every function
here is deterministic and keeps paragraph breaks as blank lines.
"""

from __future__ import annotations

import enum
import re
import unicodedata

from lxml import etree
from lxml import html as lxml_html

from pipeline.errors import PageError


class ContentKind(enum.Enum):
    """What a body looks like once sniffed."""

    FEED = "feed"
    HTML = "html"
    TEXT = "text"


_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or Office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"RIFF", "a RIFF media file"),
)
_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside blockquote pre li ul ol dl dt dd "
    "table tr td th figure figcaption h1 h2 h3 h4 h5 h6 br hr".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_SKIP_TAGS = frozenset("script style noscript template iframe svg nav form button".split())
# C0/C1 control characters except tab and newline; they can carry terminal escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Whole ANSI/VT escape sequences (CSI, OSC up to BEL/ST, two-byte escapes), removed
# before the lone controls so no fragment such as "[31m" or "]0;title" stays in the
# text that claims, queries and reports are made from (#7). OSC is bounded so an
# unterminated one cannot swallow the rest of the document.
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]{0,512}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[@-Z\\-_]"
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_MD_HEADING = re.compile(r"\s{0,3}#{1,6}\s+(.*)")


def sniff(data: bytes, content_type: str = "") -> ContentKind:
    """Say whether a body is a feed, HTML or plain text.

    Args:
        data: The body, raw.
        content_type: The Content-Type header, if any; the body wins when they disagree
            (servers often call feeds ``text/html`` or pages ``text/plain``).

    Raises:
        PageError: The body is binary (PDF, image, archive) or empty.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.strip():
        raise PageError("the content is empty; nothing to check")
    for magic, what in _BINARY_SIGNATURES:
        if head.startswith(magic):
            raise PageError(f"the content is {what}, not text, HTML or a feed")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 (BOM first): look for the markers in the decoded text, or a UTF-16 feed
        # would pass for plain text with its markup as the "article" (#7).
        head = decode(head).encode("utf-8", "replace")
    elif b"\x00" in head:
        raise PageError("the content is binary, not text, HTML or a feed")
    lowered = head[:2048].lower()
    if re.search(rb"<(rss|feed|rdf:rdf)[\s>]", lowered):
        return ContentKind.FEED
    if re.search(rb"<(!doctype html|html|head|body|p|div|article)[\s>]", lowered):
        return ContentKind.HTML
    ctype = content_type.lower()
    if "rss" in ctype or "atom" in ctype:
        return ContentKind.FEED
    return ContentKind.TEXT


def decode(data: bytes, declared: str | None = None) -> str:
    """Decode bytes to str: BOM, then the declared charset, then UTF-8, then Windows-1252.

    Servers often declare UTF-8 for Latin-1 bodies; a strict UTF-8 attempt catches that
    and falls back instead of filling the text with replacement characters.
    """
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    candidates = [c for c in (declared, "utf-8") if c]
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("cp1252", errors="replace")


def clean_text(text: str) -> str:
    """Normalise text for splitting: NFC, no control characters, tidy spaces and blank lines."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", _ESCAPE.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def join_blocks(blocks: list[tuple[str, bool]]) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Join (text, is_heading) blocks into one text with blank lines between them.

    Returns:
        The text and the (offset, heading) pairs of the heading blocks in it.
    """
    parts: list[str] = []
    headings: list[tuple[int, str]] = []
    pos = 0
    for raw, is_heading in blocks:
        block = clean_text(raw)
        if not block:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        if is_heading:
            headings.append((pos, block))
        parts.append(block)
        pos += len(block)
    return "".join(parts), tuple(headings)


def html_fragment_to_text(fragment: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Turn an HTML fragment (a feed item's body) into paragraphs and headings.

    Scripts, styles, forms and navigation are dropped; block elements become
    paragraphs; headings are kept as their own paragraphs and reported separately.
    """
    if not fragment.strip():
        return "", ()
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return join_blocks([(fragment, False)])
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []

    def flush(is_heading: bool = False) -> None:
        text = "".join(current)
        current.clear()
        if text.strip():
            blocks.append((text, is_heading))

    def walk(el: etree._Element) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS:
            if el.tail:
                current.append(el.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush(is_heading=tag in _HEADING_TAGS)
        if el.tail:
            current.append(el.tail)

    walk(root)
    flush()
    return join_blocks(blocks)


def markdown_headings(text: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """Find Markdown ``#`` headings in plain text and strip their markers.

    Returns:
        The text with heading markers removed, and the (offset, heading) pairs.
    """
    blocks: list[tuple[str, bool]] = []
    for para in re.split(r"\n\s*\n", text):
        lines = para.split("\n")
        buf: list[str] = []
        for line in lines:
            m = _MD_HEADING.match(line)
            if m:
                if buf:
                    blocks.append(("\n".join(buf), False))
                    buf = []
                # The closing "###" is stripped in Python: the regex it replaced,
                # (.*?)\s*#*\s*$, backtracked quadratically on a line of many "#" (#7).
                blocks.append((m.group(1).rstrip().rstrip("#").rstrip(), True))
            else:
                buf.append(line)
        if buf:
            blocks.append(("\n".join(buf), False))
    return join_blocks(blocks)
