"""`campaign run`: the daemon, in the foreground, ready for systemd."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import click

from scheduler.cli.common import config_option, main
from scheduler.cli.store import database_option
from scheduler.daemon.clock import CampaignClock, Clock, SteppedClock
from scheduler.daemon.stepping import read_instant
from scheduler.errors import UsageError
from scheduler.settings import load_settings
from scheduler.store.database import Database, open_database
from scheduler.store.scratch import copy_to_sqlite, open_source

log = logging.getLogger("campaign.daemon")


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
def run(
    dry_run: bool,
    config: Path | None,
    database: str | None,
    rehearse_from: str | None,
    speed: float,
    clock_file: Path | None,
) -> None:
    """Run the daemon: send every approved delivery once, on time, until stopped.

    SIGTERM or SIGINT: stop claiming, finish calls in flight, exit 0. SIGHUP: reload --config.
    """
    from scheduler.daemon.accounts import preload_adapters
    from scheduler.daemon.ops import configure_logging
    from scheduler.daemon.runner import (
        Daemon,  # APScheduler and the adapters load only for this command
    )

    settings = load_settings(config)
    configure_logging(settings.log_format)
    preload_adapters()
    clock = _clock(rehearse_from, speed, clock_file)
    target = database or settings.database
    opened = _scratch_copy(target) if dry_run else open_database(target, create=False)
    daemon = Daemon(settings, opened, clock=clock, dry_run=dry_run, config_path=config)
    sys.exit(daemon.run())


def _clock(rehearse_from: str | None, speed: float, clock_file: Path | None) -> CampaignClock:
    if speed != 1.0 and not rehearse_from:
        raise UsageError("--speed needs --rehearse-from: only a rehearsal clock runs faster")
    if clock_file is None:
        return Clock(start=_instant(rehearse_from), speed=speed) if rehearse_from else Clock()
    if rehearse_from:
        raise UsageError("--clock-file and --rehearse-from: choose one rehearsal clock")
    try:
        return SteppedClock(read_instant(clock_file), source=clock_file)
    except OSError as exc:
        raise UsageError(f"--clock-file {clock_file}: cannot read it: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"--clock-file {exc}") from exc


def _scratch_copy(target: str | None) -> Database:
    """A dry run's own store: a copy of the shared one in a new folder, left there afterwards
    for inspection, so that what the dry run "sends" or marks missed stays out of the real one."""
    with closing(open_source(target)) as source:
        path = Path(tempfile.mkdtemp(prefix="campaign-dry-run-")) / "dry-run.db"
        try:
            copy = copy_to_sqlite(source, path)
        except BaseException:
            path.parent.rmdir()  # the copy removed its own file
            raise
    log.info("dry run: working on a scratch copy at %s; %s is not touched", path, source.name)
    return copy


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
