"""`campaign run`: the daemon, in the foreground, ready for systemd."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from scheduler.cli.common import config_option, main
from scheduler.cli.store import database_option
from scheduler.clock import Clock
from scheduler.errors import UsageError
from scheduler.settings import load_settings
from scheduler.store.database import open_database


@main.command()
@click.option(
    "--dry-run", is_flag=True, help="Schedule for real, but send nothing: the dry-run adapters."
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
def run(
    dry_run: bool,
    config: Path | None,
    database: str | None,
    rehearse_from: str | None,
    speed: float,
) -> None:
    """Run the daemon: send every approved delivery once, on time, until stopped.

    SIGTERM or SIGINT: stop claiming, finish calls in flight, exit 0. SIGHUP: reload --config.
    """
    from scheduler.accounts import preload_adapters
    from scheduler.daemon import Daemon  # APScheduler and the adapters load only for this command
    from scheduler.ops import configure_logging

    settings = load_settings(config)
    configure_logging(settings.log_format)
    preload_adapters()
    clock = Clock(start=_instant(rehearse_from), speed=speed) if rehearse_from else Clock()
    if speed != 1.0 and not rehearse_from:
        raise UsageError("--speed needs --rehearse-from: only a rehearsal clock runs faster")
    opened = open_database(database or settings.database)
    daemon = Daemon(settings, opened, clock=clock, dry_run=dry_run, config_path=config)
    sys.exit(daemon.run())


def _instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"--rehearse-from {text!r}: expected an instant like 2026-11-25T00:00Z"
        ) from exc
    if moment.tzinfo is None:
        raise UsageError(f"--rehearse-from {text!r}: give the offset, e.g. 2026-11-25T00:00Z")
    return moment.astimezone(dt.UTC)
