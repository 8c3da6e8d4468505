"""Turn a claim sentence into one PubMed search term that names its concepts. Pure.

PubMed ANDs every word of a term, so a whole sentence almost never matches anything.
:func:`build_query` keeps the claim's informative words and phrases (biomedical terms,
gene and protein names, multiword names such as "vitamin D" or "heart attack"), the
:data:`MAX_TERMS` most informative of them, and ORs into each its other names from a
medical vocabulary (:class:`~claims.vocabulary.Vocabulary`: "heart attack" also searches
"myocardial infarction") and its singular or plural. The concepts are then ORed too:
the term asks for every abstract that mentions any of them, and PubMed's relevance sort
puts first those that mention the most, and the rarest. This one wide search replaces
a ladder of ever looser ones; the retrieval stage asks for a few dozen candidates and
the encoder ranks them (``pipeline.rank``) before the stance model reads any.

Every word is tagged ``[tiab]`` (title/abstract). Untagged, PubMed's automatic term
mapping would expand each word on its own and search all fields, where "cell" or
"nature" match journal names and author affiliations; the vocabulary does the mapping
here, where the claim's phrases are known.

"Informative" is a rough IDF estimate from the word alone: gene-like tokens (digits,
inner capitals) and long or typically medical words rank high; words from a list of
generic research vocabulary ("effect", "risk", "patients") and adverbs rank low.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claims.vocabulary import Vocabulary

__all__ = [
    "MAX_TERMS",
    "MAX_VARIANTS",
    "Concept",
    "Query",
    "build_query",
    "informative_terms",
]

MAX_TERMS = 7
"""Words and phrases searched per claim; the rest of the sentence is dropped."""
MAX_VARIANTS = 5
"""Names searched per concept, so that a concept with many synonyms stays one line."""
FIELD = "[tiab]"
"""The field tag on every searched name: title and abstract."""

# Function words, hedges, pronouns and reporting verbs: never searched.
_STOPWORDS = frozenset(
    """a about above according across after again against all almost along already also
    although always am among an and another any anyone anything are around as at away
    be became because become becomes been before being below between beyond both but by
    can cannot could did do does doing done down due during each either else enough even
    ever every few for from further get gets getting give given gives go going got had
    has have having he her here hers him his how however i if in including indeed into
    is it its itself just least less like likely made make makes making many may maybe
    me might more moreover most much must my neither never no nor not now of off often
    on once one only onto or other others otherwise our ours out over own per perhaps
    possibly previously probably quite rather really regarding said same say says seem
    seems seen several shall she should show showed shown shows since so some something
    sometimes still such suggest suggested suggests than that the their theirs them
    themselves then there therefore these they thing things this those though through
    thus to too toward towards under unless until up upon us use used uses using very
    via was we well were what whatever when where whether which while who whom whose
    why will with within without would yet you your
    claim claims claimed report reports reported researchers scientists experts study
    studies research evidence found find finds shown proven proved known new recent
    recently actually really truly simply generally usually typically commonly strongly
    substantially significantly highly greatly largely mainly mostly particularly
    especially approximately nearly roughly quickly slowly solely very much
    don't doesn't isn't aren't can't won't didn't wasn't weren't two three four five six
    seven eight nine ten first second third half able unable whereas""".split()
)

# Words that occur in a large share of abstracts: searched, but dropped first.
_GENERIC = frozenset(
    """ability absence accelerated accuracy action active activity acute adult adults age
    aged associated association associations based baseline behavior benefit benefits
    better body capacity case cases cause caused causes causing cell cells change changes
    children clinical common compared condition conditions control controls day days
    decrease decreased decreases decreasing deficiency degree dependent development
    different disease diseases disorder disorders dose early effect effective effects
    efficacy elevated enhanced enhances expression factor factors form formation function
    functions group groups growth health healthy high higher human humans impact impaired
    important improve improved improves improvement increase increased increases
    increasing individuals induce induced induces influence influences inhibit inhibited
    inhibits involved key lack large lead leads level levels life long loss low lower
    major mechanism mediated model models mouse mice negative normal number outcome
    outcomes patient patients people percent persons population positive potential
    presence prevent prevents primary process processes production promote promotes
    protein proteins rate rates reduce reduced reduces reducing regulate regulated
    regulates regulation related response responses result results risk role severe
    significant specific state status subjects system systems term therapy time total
    treatment treatments type use value women men year years young
    accurately add adding affect affects allow allows contribute contributes contributing
    decline declines depend depends determine determines exhibit exhibits information
    interact interacts interfere interferes involve involves mimic mimicked negatively
    play plays positively possess possesses predict predicts predictive provide provides
    reflect reflects require required requires responsible similar unrelated""".split()
)

# Multiword names searched as one quoted phrase (and scored as one rare term).
_PHRASES = (
    "blood pressure",
    "high blood pressure",
    "heart attack",
    "heart failure",
    "fat infiltration",
    "fatty infiltration",
    "red meat",
    "processed meat",
    "breast cancer",
    "prostate cancer",
    "lung cancer",
    "colorectal cancer",
    "bone density",
    "bone mineral density",
    "body mass index",
    "stem cell",
    "stem cells",
    "gut microbiota",
    "intermittent fasting",
    "rotator cuff",
    "growth factor",
    "immune system",
    "blood sugar",
    "insulin resistance",
    "myocardial infarction",
    "heart disease",
    "kidney disease",
    "liver disease",
    "alzheimer's disease",
    "parkinson's disease",
    "multiple sclerosis",
    "dna damage",
    "t cell",
    "t cells",
    "b cell",
    "b cells",
)
_PHRASE_WORDS = {tuple(p.split()) for p in _PHRASES}
_MAX_PHRASE = max(len(p) for p in _PHRASE_WORDS)

# A word followed by a short code that belongs to it: "vitamin D", "type 2", "omega-3".
_CODE_HEADS = frozenset("vitamin type omega grade stage class phase il factor complex".split())

# Demonstratives pointing back to the context: "these muscles", "this study".
_ANAPHOR = re.compile(r"\b(?:this|these|that|those|such|the same)\s+([a-z][a-z-]+)", re.I)
# A subject pronoun left after that: "It transforms.", "They work less well …".
_BARE_SUBJECT = re.compile(r"^\W*(?:it|its|they|their|he|she|this|that|these|those)\b", re.I)
_REFERENTIAL_NOUNS = frozenset(
    "study studies trial trials research findings finding results paper analysis "
    "review drug drugs treatment therapy intervention supplement compound".split()
)

_TOKEN = re.compile(r"[A-Za-z0-9α-ωΑ-Ω][A-Za-z0-9α-ωΑ-Ω'’+\-]*")
_PAREN_ACRONYM = re.compile(r"\s*\(\s*[A-Za-z0-9α-ω\-+/]{1,12}\s*\)")
_MEDICAL_SUFFIXES = (
    "itis", "osis", "emia", "aemia", "oma", "ase", "pathy", "plasia", "trophy", "ectomy",
    "genesis", "cyte", "cytes", "mab", "nib", "pril", "sartan", "statin", "azole", "vir",
)  # fmt: skip


_NOT_ADVERBS = frozenset("family anomaly assembly monopoly supply italy july butterfly".split())
_NOUN_SUFFIXES = tuple("tion sion ment ance ence ity ism cyte gen ome ator".split())


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    """Lower-case word or phrase as searched."""
    position: int
    score: float
    phrase: bool = False


def _is_gene_like(word: str) -> bool:
    # "ALDH1", "PrP", "Cdk5", "p53", "IL-6": digits mixed with letters, or inner capitals.
    has_digit = any(c.isdigit() for c in word)
    has_alpha = any(c.isalpha() for c in word)
    inner_caps = any(c.isupper() for c in word[1:])
    return (has_digit and has_alpha) or (inner_caps and has_alpha)


def _score(original: str, text: str) -> float:
    """Rough informativeness of one word or phrase: higher means rarer in PubMed."""
    words = text.split()
    if len(words) > 1:
        return 2.5 + 0.1 * len(text)
    word = words[0]
    score = min(len(word), 12) / 12
    if _is_gene_like(original) or (original.isupper() and len(original) >= 2):
        score += 1.5
    if "-" in word:
        score += 0.4
    if word.endswith(_MEDICAL_SUFFIXES):
        score += 0.4
    if word in _GENERIC or word.rstrip("s") in _GENERIC:
        score -= 1.0
    elif word.endswith("ly") and len(word) > 5 and word not in _NOT_ADVERBS:
        # Adverbs ("substantially", "geographically") are rarely the point of a claim.
        score -= 1.0
    return score


def _keep_number(token: str, previous: str | None) -> bool:
    # Bare numbers, percentages and doses say little to PubMed; codes after a head word
    # ("type 2", "vitamin B12") are kept by the caller as part of a phrase.
    return not re.fullmatch(r"[\d.,%+\-/]+(?:mg|g|kg|ml|mm|cm|h|hr|hrs)?", token.lower())


def _resolve_context(text: str, context: str) -> str:
    """Replace "these muscles" by what the context called them, when that is cheap."""
    if not context:
        return text
    context_words = _TOKEN.findall(context)
    lowered = [w.lower() for w in context_words]

    def replace(match: re.Match[str]) -> str:
        noun = match.group(1).lower()
        if noun in _REFERENTIAL_NOUNS:
            # "this study" names nothing; the context's two most informative words do.
            terms = informative_terms(context)[:2]
            return " ".join(terms) if terms else match.group(0)
        for i in range(len(lowered) - 1, -1, -1):
            if lowered[i].rstrip("s") == noun.rstrip("s"):
                start = i
                while start > 0 and i - start < 2 and lowered[start - 1] not in _STOPWORDS:
                    start -= 1
                return " ".join(context_words[start : i + 1])
        return match.group(0)

    text = _ANAPHOR.sub(replace, text)
    if _BARE_SUBJECT.match(text):
        # "It causes direct injury …" (#14): the subject is in the context, most often
        # the previous sentence's subject, so its earliest informative words stand in.
        top = sorted(_extract(context), key=lambda t: (-t.score, t.position))[:4]
        referent = " ".join(t.text for t in sorted(top, key=lambda t: t.position)[:2])
        text = f"{referent} {text}" if referent else text
    return text


def _extract(text: str, vocabulary: Vocabulary | None = None) -> list[_Term]:
    # An acronym in parentheses repeats the words before it, and requiring both would
    # miss abstracts that use one form; gene-like ones ("APOE4") are kept, since they are
    # often the most specific word of the claim.
    text = _PAREN_ACRONYM.sub(
        lambda m: m.group(0) if _is_gene_like(m.group(0).strip(" ()")) else " ", text
    )
    originals = [
        t.strip("'’-+").removesuffix("'s").removesuffix("’s") for t in _TOKEN.findall(text)
    ]
    originals = [t for t in originals if t]
    lowered = [t.lower() for t in originals]
    terms: list[_Term] = []
    seen: set[str] = set()
    i = 0
    while i < len(lowered):
        word = lowered[i]
        # Multiword names, longest first: the vocabulary's and a few common ones.
        size = next(
            (n for n in range(_MAX_PHRASE, 1, -1) if tuple(lowered[i : i + n]) in _PHRASE_WORDS),
            0,
        )
        if vocabulary is not None:
            size = max(size, vocabulary.match(lowered, i))
        if size > 1:
            phrase = " ".join(lowered[i : i + size])
            if phrase not in seen:
                seen.add(phrase)
                terms.append(_Term(phrase, i, _score(phrase, phrase), phrase=True))
            i += size
            continue
        nxt = lowered[i + 1] if i + 1 < len(lowered) else ""
        if word in _CODE_HEADS and nxt and len(nxt) <= 3 and nxt not in _STOPWORDS:
            phrase = f"{word} {nxt}"
            if phrase not in seen:
                seen.add(phrase)
                terms.append(_Term(phrase, i, 3.0, phrase=True))
            i += 2
            continue
        if (
            word not in _STOPWORDS
            and len(word) > 1
            and _keep_number(word, lowered[i - 1] if i else None)
            and word not in seen
        ):
            seen.add(word)
            terms.append(_Term(word, i, _score(originals[i], word)))
        i += 1
    return terms


def informative_terms(text: str, vocabulary: Vocabulary | None = None) -> list[str]:
    """Return the searchable words and phrases of ``text``, most informative first.

    Args:
        text: A claim or any short text.
        vocabulary: Multiword names it knows are kept together as one phrase.

    Returns:
        Lower-case words and phrases; ties keep their order in the text.
    """
    terms = _extract(text, vocabulary)
    return [t.text for t in sorted(terms, key=lambda t: (-t.score, t.position))]


def _number_variant(text: str) -> str | None:
    """The singular of a plural word, or the plural of a noun-looking one."""
    if not text.isalpha() or len(text) <= 3:
        return None
    if text.endswith("ies"):
        return text[:-3] + "y"
    if text.endswith(("uses", "sses", "xes", "ches", "shes")):
        return text[:-2]
    if text.endswith("s") and not text.endswith(("ss", "us", "is")):
        return text[:-1]
    if text.endswith("ity"):
        return text[:-1] + "ies"
    if text.endswith(_NOUN_SUFFIXES):
        # Only for words that look like nouns: "mutation" -> "mutations", but no
        # "poorers" from adjectives.
        return text + "s"
    return None


def _variants(term: _Term, vocabulary: Vocabulary | None) -> list[str]:
    """The names searched for one concept: the claim's own first, then its synonyms."""
    text = term.text
    variants = [text]
    if not term.phrase and (other := _number_variant(text)):
        variants.append(other)
    if vocabulary is not None:
        variants.extend(n.lower() for n in vocabulary.synonyms(text))
    # PubMed does not stem [tiab] terms: "heart attacks" needs its own entry.
    if term.phrase and (plural := _number_variant(text.split()[-1])):
        variants.insert(1, " ".join([*text.split()[:-1], plural]))
    return list(dict.fromkeys(variants))[:MAX_VARIANTS]


def _searched(name: str) -> str:
    quoted = f'"{name}"' if not re.fullmatch(r"[a-z0-9α-ω]+", name) else name
    return quoted + FIELD


@dataclass(frozen=True, slots=True)
class Concept:
    """One thing a claim is about, with the names it is searched under."""

    text: str
    """How the claim names it, lower case ("heart attacks")."""
    names: tuple[str, ...]
    """Names searched, the claim's own first ("heart attacks", "heart attack",
    "myocardial infarction")."""

    @property
    def term(self) -> str:
        """This concept in PubMed syntax: its names ORed, in parentheses when several."""
        parts = [_searched(n) for n in self.names]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """What to ask PubMed for one claim."""

    concepts: tuple[Concept, ...]
    """The claim's concepts, in the order the claim names them."""

    @property
    def term(self) -> str:
        """The esearch term: one group per concept, ORed.

        Requiring the most informative concept too (``A AND (B OR C ...)``) matched
        0.1-1% of the served corpus instead of 14-18%, but the gold abstract fell out of
        the first 100 hits for 0.17-0.27 more training claims: the word-shape estimate
        of informativeness picks the wrong anchor too often.
        """
        return " OR ".join(c.term for c in self.concepts)

    @property
    def label(self) -> str:
        """The concepts as the claim names them, for people: "melatonin; sleep"."""
        return "; ".join(c.text for c in self.concepts)


def build_query(
    claim_text: str,
    context: str = "",
    vocabulary: Vocabulary | None = None,
    *,
    max_terms: int = MAX_TERMS,
) -> Query | None:
    """Build the PubMed query for a claim: its concepts, each with its other names.

    Args:
        claim_text: The claim sentence.
        context: Nearby text (heading, previous sentence) used to resolve "these
            muscles" or "this study".
        vocabulary: Synonyms and multiword names ("heart attack" = "myocardial
            infarction"); None searches the claim's own words only.
        max_terms: Most concepts searched.

    Returns:
        The query, or None when the claim has no searchable word.
    """
    text = _resolve_context(claim_text, context)
    terms = _extract(text, vocabulary)
    if not terms:
        return None
    ranked = sorted(terms, key=lambda t: (-t.score, t.position))[:max_terms]
    ordered = sorted(ranked, key=lambda t: t.position)
    return Query(tuple(Concept(t.text, tuple(_variants(t, vocabulary))) for t in ordered))
