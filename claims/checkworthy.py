"""Is a sentence a checkable health claim? The cheap rules, and the trained model's seat. Pure.

The rules are the first cut: a sentence is kept when it asserts something about health
(a health term plus a complete, declarative sentence) or promotes an offering (those
must reach the promotional classifier). Headings, questions, bylines, navigation,
disclaimers and bare calls to action without a proposition are dropped. What the rules
keep then goes to a :class:`CheckworthyScorer`, a trained model that tells a checkable
proposition from rhetoric, opinion, anecdote and study-method description (the model
lives in ``pipeline``; this module only names what it must do).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from claims.types import Document


class CheckworthyScorer(Protocol):
    """Decides which of a document's candidate sentences are claims worth checking."""

    def checkworthy(self, sentences: Sequence[str], document: Document) -> list[bool]:
        """Return, for each sentence of ``document``, whether to check it.

        A sentence that promotes an offering counts as worth checking, so that the
        promotional classifier sees it.
        """
        ...


MIN_WORDS = 6
MAX_WORDS = 120
BYLINE_MAX_WORDS = 12

_HEALTH = re.compile(
    r"\b(?:"
    r"muscl|pain|spin|back|neck|disc|nerv|injur|heal|tissue|fat|scar|atroph|inflamm|"
    r"diseas|patient|treat|therap|surg|procedur|stem cell|platelet|prp|arthrit|tendon|"
    r"ligament|joint|bone|cancer|tumou?r|diabet|heart|cardi|blood|vaccin|viru|covid|"
    r"sars|infect|immun|drug|medic|dose|symptom|risk|mortal|death|die|health|clinic|"
    r"stud(?:y|ies)|trial|research|evidence|rehab|exercis|diet|vitamin|supplement|obes|"
    r"weight|sleep|brain|cognit|depress|anxi|mental|chronic|acute|syndrom|disorder|"
    r"condition|recover|regenerat|degenerat|sciatica|whiplash|multifidus|strength|"
    r"mass|aging|ageing|elderly|pregnan|hormon|gene|protein|cell|enzyme|receptor|"
    r"insulin|cholesterol|pressure|stroke|lung|liver|kidney|skin|fractur|osteo|wound|"
    r"fascia|mobility|posture|stabili|spasm|vertebra|cervical|lumbar|thorac|knee|hip|"
    r"shoulder|elbow|wrist|ankle|foot|physician|doctor|nurse|hospital|care|cure|"
    r"prevent|diagnos|prognos|outcome|efficac|effective|safe|side effect|adverse|"
    r"placebo|mask|antibod|antibiot|bacteri|microb|gut|nutri|calor|sugar|alcohol|"
    r"smok|tobacco|addict|opioid|analges|ibuprofen|aspirin|steroid|injection|"
    r"inject|mri|ultrasound|imaging|biopsy|chemo|radiat|transplant|organ|"
    r"degenerat|function|movement|motion|sport|athlet|fitness|wellness|body|"
    r"physiolog|patholog|anatom|remed|herb|homeopath|chiropract|acupunct|massage"
    r")",
    re.IGNORECASE,
)
_PROMO_CUE = re.compile(
    r"[®™]|#1\b|\bno\. ?1\b|\bsuperior\b|\bbest\b|\bleading\b|\bworld[- ]class\b|"
    r"\bour (?:clinic|patients|procedures?|treatments?|team|approach|practice|providers?)\b|"
    r"\bwe (?:offer|provide|treat|specialize|specialise|deliver)\b|\bguarantee",
    re.IGNORECASE,
)
# "By" counts only before a capitalised name: "By approximately three months, ..." is a claim.
_BYLINE = re.compile(
    r"^(?:[Bb]y:? +[A-Z]|(?i:posted|written|published|updated|reviewed|photo|image|source|"
    r"credit|filed under|tags?|categor(?:y|ies))\b[ :])"
)
_BOILERPLATE = re.compile(
    r"informational purposes|not intended (?:to|as)|disclaimer|"
    r"consult\b.{0,40}\b(?:doctor|physician|provider|professional|pharmacist)|"
    r"all rights reserved|privacy policy|terms of "
    r"(?:use|service)|cookies?\b|should not be interpreted|not a (?:substitute|recommendation)|"
    r"medical advice|copyright|unsubscribe|comments? (?:are|is) closed|leave a (?:reply|comment)",
    re.IGNORECASE,
)
_CALL_TO_ACTION = re.compile(
    r"^(?:subscribe|click|tap|join|sign up|register|download|request|call|book|schedule|"
    r"contact|follow|share|read more|learn more|watch|listen|get (?:fresh|your|the latest)|"
    r"receive|visit|find out|see (?:more|below|also)|check out|order|buy|"
    r"shop|apply|enroll|enrol)\b",
    re.IGNORECASE,
)
# Signposting ("Let's review the research") announces content rather than asserting it.
_DISCOURSE = re.compile(
    r"^(?:let['\u2019]?s|let us|here['\u2019]?s|in this (?:article|post|video|blog)|"
    r"stay tuned|as always)\b",
    re.IGNORECASE,
)
# Table-of-contents lines ("Tissue Damage . . . . . 171") and reference-list entries
# ("O'Neil CE, Nicklas TA, Fulgoni VL (2015) …") are navigation, not prose.
_DOT_LEADERS = re.compile(r"(?:\.\s*){6,}")
_REFERENCE = re.compile(
    r"^\[?\d*\]?\s*[A-Z][A-Za-z'\u2019-]+ [A-Z]{1,3},\s*[A-Z][A-Za-z'\u2019-]+ [A-Z]{1,3}\b"
)
_PROPOSITION = re.compile(
    r"\b(?:is|are|was|were|can|could|will|may|might|help|helps|reduce|reduces|improve|"
    r"improves|cure|cures|heal|heals|treat|treats|works?|superior|better|best|safe|"
    r"effective|proven)\b",
    re.IGNORECASE,
)


def looks_like_heading(line: str) -> bool:
    """A short line with no sentence-ending punctuation reads as a heading or menu item."""
    stripped = line.strip()
    if not stripped:
        return False
    words = stripped.split()
    return len(words) <= 12 and not re.search(r"[.!?:;\u2026][\"'\u2019\u201d)]*$", stripped)


def first_cut(sentence: str) -> bool:
    """Return False for what is never a claim, whatever a model would say. Pure.

    Too short or too long, questions, lead-ins ending in a colon, fragments without an
    end mark, bylines, boilerplate (disclaimers, copyright, cookies), signposting,
    table-of-contents lines, reference-list entries, and calls to action that promise
    nothing. Everything else may be a claim: a trained
    :class:`CheckworthyScorer` decides.

    Args:
        sentence: One sentence, as cut from the document.
    """
    text = sentence.strip()
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return False
    if text.endswith("?") or text.endswith(":"):
        return False
    if not re.search(r"[.!\u2026][\"'\u2019\u201d)]*$", text) and len(words) < 12:
        return False
    byline = _BYLINE.match(text) and len(words) <= BYLINE_MAX_WORDS
    if byline or _BOILERPLATE.search(text) or _DISCOURSE.match(text):
        return False
    if _DOT_LEADERS.search(text) or _REFERENCE.match(text):
        return False
    if _CALL_TO_ACTION.match(text):
        # A call to action stays only when it also promises something (a health
        # promise or a superiority claim): that is promotional content to label.
        return bool(_PROMO_CUE.search(text)) or (
            bool(_HEALTH.search(text)) and bool(_PROPOSITION.search(text))
        )
    return True


def mentions_health(sentence: str) -> bool:
    """True when the sentence names a health, body or treatment term. Pure."""
    return bool(_HEALTH.search(sentence))


def is_checkworthy(sentence: str) -> bool:
    """Return True when the rules alone would check a sentence (no trained model). Pure.

    The first cut, then a health term or a promotional cue. A trained scorer replaces
    the second test: a word list misses "fecundability" and keeps "studies show the
    body, in a sense, gives up on them".

    Args:
        sentence: One sentence, as cut from the document.
    """
    if not first_cut(sentence):
        return False
    return bool(_PROMO_CUE.search(sentence)) or mentions_health(sentence)


# A subject that points back: "It transforms.", "They also provide …", "This is …",
# "These muscles …", after an optional connective ("But it …", "However, they …").
_LEADING_REFERENCE = re.compile(
    r"^[\"'\u2018\u201c(]?(?:(?:and|but|so|yet|however|still|instead|also|in addition|"
    r"as a result|in turn|over time|eventually)\b,? +)?"
    r"(?:it|its|they|their|them|he|she|his|her|this|these|that|those|such|both)\b",
    re.IGNORECASE,
)
# A demonstrative noun phrase anywhere: "Understanding this cycle is …".
_DEMONSTRATIVE = re.compile(r"\b(?:this|these|those|such)\s+[a-z][a-z-]+", re.IGNORECASE)


def needs_referent(sentence: str) -> bool:
    """True when the sentence leans on what came before it to say what it is about."""
    text = sentence.strip()
    return bool(_LEADING_REFERENCE.match(text) or _DEMONSTRATIVE.search(text))


def referent_context(sentence: str, previous: str, heading: str) -> str:
    """Return the text a sentence's pronoun or demonstrative points back to, or "".

    The previous sentence of the same section when there is one, else the section's
    heading (or the document title). Sentences that name their own subject get "": their
    search needs nothing else, and a report need not show anything beside them.

    Args:
        sentence: The claim.
        previous: The sentence before it in its section ("" at a section start).
        heading: The heading of its section, or the document title.
    """
    if not needs_referent(sentence):
        return ""
    return previous or heading
