"""`campaign run`: the daemon, in the foreground, ready for systemd."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from scheduler.cli.common import main
from scheduler.cli.options import config_option, database_option
from scheduler.cli.web import DEFAULT_HOST
from scheduler.errors import UsageError


@main.command()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Send nothing, on a scratch copy of the database: the shared one is not touched.",
)
@config_option
@database_option
@click.option(
    "--rehearse-from",
    metavar="INSTANT",
    help="Rehearsal: start the campaign clock at this instant (e.g. 2026-11-25T00:00Z).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1.0),
    default=1.0,
    show_default=True,
    help="Rehearsal: how many times faster than real time the campaign clock runs.",
)
@click.option(
    "--clock-file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Stepped rehearsal: campaign time is the instant in FILE and moves only when FILE is "
    "replaced; the daemon says in FILE.status.json when it is idle.",
)
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Also serve the web dashboard on this port, in this process (as `campaign web`); "
    "0: any free port, logged at start.",
)
@click.option(
    "--web-host",
    default=DEFAULT_HOST,
    show_default=True,
    metavar="ADDRESS",
    help="With --web-port: the address the dashboard listens on (not loopback: TLS in front).",
)
def run(
    dry_run: bool,
    config: Path | None,
    database: str | None,
    rehearse_from: str | None,
    speed: float,
    clock_file: Path | None,
    web_port: int | None,
    web_host: str,
) -> None:
    """Run the daemon: send every approved delivery once, on time, until stopped.

    SIGTERM or SIGINT: stop claiming, finish calls in flight, exit 0. SIGHUP: reload --config.
    """
    # APScheduler, the store and the platform SDKs load only for this command.
    from scheduler.service.daemon import campaign_clock, run_daemon
    from scheduler.settings import load_settings

    settings = load_settings(config)
    clock = campaign_clock(rehearse_from, speed, clock_file)
    dashboard = None
    if web_port is None and web_host != DEFAULT_HOST:
        raise UsageError("--web-host needs --web-port: the dashboard is served only when asked")
    if web_port is not None and dry_run:
        raise UsageError(
            "--web-port and --dry-run: a dry run works on a scratch copy, which holds none of "
            "the dashboard's users; serve the dashboard with `campaign web` instead"
        )
    if web_port is not None:
        from scheduler.web.server import beside_daemon  # Starlette and uvicorn: only if asked

        dashboard = functools.partial(beside_daemon, host=web_host, port=web_port)
    sys.exit(
        run_daemon(
            settings,
            database or settings.database,
            clock=clock,
            dry_run=dry_run,
            config_path=config,
            alongside=dashboard,
        )
    )
