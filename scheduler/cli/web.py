"""`campaign web`: the dashboard for comms officers, in a browser."""

from __future__ import annotations

import logging

import click

from scheduler.cli.common import main
from scheduler.cli.options import database_option

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@main.command()
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    metavar="ADDRESS",
    help="Address to listen on. Anything but loopback needs TLS in front (a reverse proxy): "
    "the session cookie is Secure.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on (0: any free port, logged at start).",
)
@database_option
def web(host: str, port: int, database: str | None) -> None:
    """Serve the web dashboard until stopped (Ctrl-C or SIGTERM).

    Comms officers log in with the accounts an admin makes (`campaign users add`). Several
    dashboards, and daemons, may serve one database. See docs/web.md.
    """
    # Starlette, uvicorn and the store load only for this command.
    from contextlib import closing

    from scheduler.service.databases import open_existing
    from scheduler.web.app import create_app
    from scheduler.web.server import serve

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    with closing(open_existing(database)) as opened:
        serve(create_app(opened), host, port)
