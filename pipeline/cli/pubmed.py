"""``claimscan pubmed``: a debugging command that shows what PubMed returns for a term.

Network I/O to E-utilities (and the response cache); writes a table to stdout.
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from claims.types import Article, SearchResult
from pipeline.cli import cli
from pipeline.cli.options import build_config, eutils_options, handle_errors


def render_search(
    console: Console, result: SearchResult, articles: dict[str, Article], limit: int
) -> None:
    """Print a search's count, QueryTranslation and top titles.

    Args:
        console: Where to print.
        result: The esearch answer.
        articles: Fetched records by PMID (may lack some of ``result.pmids``).
        limit: Titles to show at most.
    """
    console.print(Text.assemble(("term: ", "bold"), result.term))
    console.print(Text.assemble(("count: ", "bold"), f"{result.count:,}"))
    console.print(Text.assemble(("translation: ", "bold"), result.translation or "(none)"))
    if not result.pmids:
        return
    table = Table(show_header=True, header_style="bold", show_lines=False)
    table.add_column("PMID", no_wrap=True)
    table.add_column("year", no_wrap=True)
    table.add_column("title")
    for pmid in result.pmids[:limit]:
        article = articles.get(pmid)
        if article is None:
            table.add_row(pmid, "", Text("(not returned by efetch)", style="dim"))
            continue
        title = Text(article.title)
        if article.retracted:
            title.append(" [RETRACTED]", style="bold red")
        table.add_row(pmid, str(article.year or ""), title)
    console.print(table)


@cli.command("pubmed")
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--retmax", type=click.IntRange(1, 200), default=10, show_default=True, help="Titles to show."
)
@click.option(
    "--claim",
    "as_claim",
    is_flag=True,
    help="Treat QUERY as a claim sentence: show its concepts and search the term built "
    "from them, as a check does.",
)
@eutils_options
@handle_errors
def pubmed_command(query: Sequence[str], retmax: int, as_claim: bool, **flags: object) -> None:
    """Search PubMed and print the hit count, QueryTranslation and top titles.

    \b
    Examples:
        claimscan pubmed "fatty infiltration multifidus whiplash"
        claimscan pubmed --claim "Vitamin D supplements prevent falls in older adults."
    """
    from claims.query import build_query
    from pipeline.session import Session
    from pipeline.vocabulary import load_vocabulary

    config = build_config(**flags)
    text = " ".join(query)
    term = text
    console = Console(highlight=False)
    if as_claim:
        built = build_query(text, vocabulary=load_vocabulary())
        if built is None:
            raise click.ClickException(f"no searchable words in {text!r}")
        console.print(Text.assemble(("concepts: ", "bold"), built.label))
        term = built.term
    with Session.open(config) as session:
        result = session.pubmed.search(term, retmax=retmax)
        articles = session.pubmed.fetch(result.pmids) if result.pmids else {}
        render_search(console, result, articles, retmax)
