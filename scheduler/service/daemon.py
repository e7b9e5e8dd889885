"""`campaign run`: the daemon built from the settings, on its campaign clock, and run until
stopped. Importing this module loads APScheduler and, once the daemon is ready, the SDKs of the
platforms it has accounts on: only the ``run`` command does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from scheduler.daemon.clock import CampaignClock, Clock, SteppedClock
from scheduler.daemon.ops import configure_logging
from scheduler.daemon.runner import Daemon
from scheduler.daemon.stepping import read_instant
from scheduler.errors import UsageError
from scheduler.service.databases import Database, open_existing, scratch_copy
from scheduler.settings import Settings


def run_daemon(
    settings: Settings,
    target: str | None,
    *,
    clock: CampaignClock,
    dry_run: bool = False,
    config_path: Path | None = None,
    alongside: Callable[[Database], AbstractContextManager[object]] | None = None,
) -> int:
    """Send every approved delivery once, on time, until stopped; the exit status. A dry run
    sends nothing and works on a scratch copy of the database ``target``.

    ``alongside``, given the database the daemon works on, is entered once the database is
    open and left once the daemon has stopped: the dashboard served in the daemon's process
    (`campaign run --web-port`)."""
    configure_logging(settings.log_format)
    opened = scratch_copy(target) if dry_run else open_existing(target)
    daemon = Daemon(settings, opened, clock=clock, dry_run=dry_run, config_path=config_path)
    with alongside(opened) if alongside is not None else nullcontext():
        return daemon.run()


def campaign_clock(
    rehearse_from: str | None, speed: float, clock_file: Path | None
) -> CampaignClock:
    """The wall clock; a rehearsal clock from an instant, ``speed`` times faster; or a stepped
    clock that follows the instant in ``clock_file``. Refuses (UsageError) a mix of them."""
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
