"""``claimscan serve``: run the newsroom web app. Binds a port; the app does the rest."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import click

from pipeline.cli import cli
from pipeline.cli.options import build_config, eutils_options, handle_errors, model_options

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True when binding to ``host`` keeps the server reachable from this machine only."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_data_dir(env: Any = os.environ) -> Path:
    """``$XDG_DATA_HOME/claimscan``, or ``~/.local/share/claimscan``."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "claimscan"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the database of checks and reviews "
    "[default: $XDG_DATA_HOME/claimscan or ~/.local/share/claimscan].",
)
@click.option(
    "--feeds-state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A `claimscan feed --state` database to show at /feeds (read-only).",
)
@click.option(
    "--token",
    envvar="CLAIMSCAN_TOKEN",
    metavar="SECRET",
    help="Required on every request (env CLAIMSCAN_TOKEN); needed to bind beyond loopback.",
)
@click.option(
    "--allow-private-urls",
    is_flag=True,
    help="Let checks fetch loopback, link-local and private addresses (refused by default).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 8),
    help="Checks run at once; the others queue.",
)
@eutils_options
@model_options
@handle_errors
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    feeds_state: Path | None,
    token: str | None,
    allow_private_urls: bool,
    workers: int,
    **flags: Any,
) -> None:
    """Run the web app: paste a link or text, watch it checked, review claims.

    Open http://127.0.0.1:8000/ in a browser. The models load once, in the
    background; GET /healthz answers 200 when they are ready. Checks and reviews
    are kept in --data and survive restarts. Binding to any address but loopback
    needs --token (or CLAIMSCAN_TOKEN); with a token, browsers log in at /login
    and API clients send 'Authorization: Bearer TOKEN'.

    \b
    Examples:
        claimscan serve
        CLAIMSCAN_TOKEN="$(openssl rand -hex 16)" claimscan serve --host 0.0.0.0 --port 8080
        claimscan serve --feeds-state ~/claimscan/feeds.db
    """
    import uvicorn

    from pipeline.web import WebSettings, create_app
    from pipeline.web.security import LOOPBACK_HOSTS

    token = token or None
    if not is_loopback(host) and token is None:
        raise click.ClickException(
            f"binding to {host} makes the server reachable from other machines: "
            "give --token (or set CLAIMSCAN_TOKEN)"
        )
    config = build_config(**flags)
    settings = WebSettings(
        data_dir=data_dir or default_data_dir(),
        token=token,
        # With a token, any Host is answered: the token, not the name, is the guard.
        allowed_hosts=None if token else LOOPBACK_HOSTS | {host.lower()},
        feeds_state=feeds_state,
        allow_private_urls=allow_private_urls,
        workers=workers,
    )
    app = create_app(settings, config)
    click.echo(
        f"claimscan: serving on http://{host}:{port}/ (data in {settings.data_dir}); "
        "the models load in the background",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
