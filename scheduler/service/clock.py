"""Campaign time for the commands: the wall clock, or a rehearsal's clock file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from scheduler.errors import ConfigurationError

CLOCK_ENV = "CAMPAIGN_CLOCK_FILE"


def now_utc() -> dt.datetime:
    """Campaign time for the commands: the wall clock; or, for rehearsals and tests, the instant
    in the file that CAMPAIGN_CLOCK_FILE names, read as `campaign run --clock-file` reads it."""
    clock_file = os.environ.get(CLOCK_ENV)
    if not clock_file:
        return dt.datetime.now(dt.UTC)
    from scheduler.daemon.stepping import read_instant

    try:
        return read_instant(Path(clock_file))
    except OSError as exc:
        raise ConfigurationError(
            f"{CLOCK_ENV}={clock_file}: cannot read it: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(f"{CLOCK_ENV}: {exc}") from exc
