"""A daemon on a stepped clock (``campaign run --clock-file PATH``): campaign time is the instant
written in PATH, and the daemon says in ``PATH.status.json`` when it has done all that is due.

The exchange, without a race:

1. The driver (a test, or an operator rehearsing by hand) replaces PATH atomically (a temporary
   file renamed into place: :func:`write_instant`) with one ISO 8601 instant, offset included,
   never earlier than the one before.
2. The daemon sees PATH change, moves its clock there, and writes a status with the next ``seq``
   and ``"idle": false``.
3. It settles: housekeeping, then dispatch until nothing is claimable and no call is in flight,
   and again while that started calls (their outcomes may need housekeeping at the same instant).
4. It writes the same ``seq`` with ``"idle": true`` and ``next_wakeup``, the next instant at
   which something becomes claimable (null when nothing is waiting for time).

The daemon acts only when PATH changes, so an idle status stays true until the driver writes
again. A driver that has read ``seq`` n writes PATH, then waits for a status from its daemon's
``pid`` with a greater ``seq``, idle, at the instant it wrote; only then does it look at the
store or move time again. A status with an ``error`` (a bad clock file, a failed settle) says why
the daemon will not become idle.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.daemon.clock import SteppedClock

log = logging.getLogger("campaign.stepping")
WATCH_INTERVAL = 0.01
"""Seconds between two looks at the clock file: the most wall time a step waits to be seen."""


@dataclass(frozen=True)
class Status:
    """What a stepped daemon last said: ``seq`` counts the clock file's changes it has seen."""

    pid: int
    seq: int
    instant: dt.datetime
    idle: bool
    next_wakeup: dt.datetime | None = None
    error: str | None = None

    def to_json(self) -> str:
        wakeup = self.next_wakeup.isoformat() if self.next_wakeup else None
        return json.dumps(
            {"pid": self.pid, "seq": self.seq, "instant": self.instant.isoformat(),
             "idle": self.idle, "next_wakeup": wakeup, "error": self.error}
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Status:
        data: dict[str, Any] = json.loads(text)
        wakeup = data.get("next_wakeup")
        return cls(
            pid=int(data["pid"]),
            seq=int(data["seq"]),
            instant=parse_instant(data["instant"]),
            idle=bool(data["idle"]),
            next_wakeup=parse_instant(wakeup) if wakeup else None,
            error=data.get("error"),
        )


def status_path(clock_file: Path) -> Path:
    return clock_file.with_name(clock_file.name + ".status.json")


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (``Z`` allowed), in UTC; ValueError otherwise."""
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"{text.strip()!r}: give the offset, e.g. 2026-11-25T00:00Z")
    return moment.astimezone(dt.UTC)


def read_instant(path: Path) -> dt.datetime:
    try:
        return parse_instant(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path}: expected one instant like 2026-11-25T00:00Z: {exc}") from exc


def write_instant(path: Path, instant: dt.datetime) -> None:
    """Move a stepped daemon's clock: the whole file is replaced at once, never seen half done."""
    _replace(path, instant.astimezone(dt.UTC).isoformat() + "\n")


def read_status(clock_file: Path) -> Status | None:
    """The daemon's last status, or None before its first."""
    try:
        return Status.from_json(status_path(clock_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Stepper:
    """Watches the clock file of a :class:`SteppedClock`; at each new instant, calls ``settle``
    (everything due at it, returning the next wakeup) and reports in the status file."""

    def __init__(
        self,
        clock: SteppedClock,
        settle: Callable[[], dt.datetime | None],
        stopping: threading.Event,
    ) -> None:
        if clock.source is None:
            raise ValueError("a stepper needs a clock that follows a file")
        self.clock = clock
        self.path = clock.source
        self._settle = settle
        self._stopping = stopping
        self._seq = 0
        self._seen: tuple[int, int, int] | None = None
        self._thread = threading.Thread(target=self._watch, name="campaign-stepper", daemon=True)

    def start(self) -> None:
        log.info("stepped clock at %s: moved by %s, status in %s",
                 self.clock.now().isoformat(), self.path, status_path(self.path))  # fmt: skip
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            if self._changed():
                self._step()
            self._stopping.wait(WATCH_INTERVAL)

    def _changed(self) -> bool:
        # Compared by inode too: a rename brings a new one even within one mtime tick.
        try:
            stat = self.path.stat()
        except OSError:
            return False
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if stamp == self._seen:
            return False
        self._seen = stamp
        return True

    def _step(self) -> None:
        self._seq += 1
        try:
            self.clock.advance_to(read_instant(self.path))
        except (OSError, ValueError) as exc:
            log.error("stepped clock: %s", exc)
            self._report(idle=False, error=str(exc))
            return
        self._report(idle=False)
        try:
            wakeup = self._settle()
        except Exception as exc:  # said in the status, so a driver fails now, not at its deadline
            log.exception("stepped clock: settling at %s failed", self.clock.now().isoformat())
            self._report(idle=False, error=f"{type(exc).__name__}: {exc}")
            return
        if not self._stopping.is_set():
            self._report(idle=True, next_wakeup=wakeup)

    def _report(
        self, *, idle: bool, next_wakeup: dt.datetime | None = None, error: str | None = None
    ) -> None:
        status = Status(os.getpid(), self._seq, self.clock.now(), idle, next_wakeup, error)
        _replace(status_path(self.path), status.to_json() + "\n")
