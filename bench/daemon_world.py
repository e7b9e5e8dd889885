"""The daemon benchmarks' shared world: a store full of due deliveries, the fake platforms with a
fixed latency, real ``campaign run`` processes, and what the platforms received.

Used by bench/burst.py, bench/punctuality.py, bench/scaleout.py (and the footprint benchmarks)::

    with World(folder, Shape(embassies=334), latency=0.1) as world:
        world.due_at([start] * world.deliveries)
        with world.daemons(1, daemon={"max_in_flight": 32}) as daemons:
            received = world.wait_received()
        cpu = daemons.cpu()

- the store is built the way a team builds it: a generated campaign (``Shape``: embassies x
  platforms x posts, one account per embassy and platform) synced with ``sync_file``; the
  benchmark then sets each delivery's due instant (``World.due_at``), since a campaign's slots
  are whole minutes of a day and a benchmark wants them at chosen instants of the wall clock;
- the fakes (tests/fakes) wait ``latency`` seconds before answering every request, after the
  platform acted: a wait on an event, no CPU. They run in this process, whose CPU is measured
  too (``cpu_self``), to show they are not the bottleneck;
- what the platforms received is read from the platforms' side: the time each post's request
  arrived (a hook on the fake) and the posts each fake holds, so a duplicate is counted where it
  would hurt;
- the daemons are ``campaign run`` processes (tests/daemon_harness.py), each measured from
  /proc: CPU (user + system) and RSS. ``profile=PATH`` runs each under cProfile, every thread
  included, timing each thread's CPU (not the wall clock), and writes PATH.<n> when it stops.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from campaign_builders import embassy, post, write_campaign  # noqa: E402
from daemon_harness import DaemonProcess, Platforms, wait_for, write_config  # noqa: E402
from fakes.server import Request  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from adapters.secrets import write_private  # noqa: E402
from scheduler.service.sync import sync_file  # noqa: E402
from scheduler.store.database import Database, open_database  # noqa: E402
from scheduler.store.schema import Account, Delivery  # noqa: E402

PLATFORMS = ("x", "mastodon", "bluesky")
CREATE = {"x": "/2/tweets", "mastodon": "/api/v1/statuses", "bluesky": "applyWrites"}
POSTGRES_ADMIN_URL = os.environ.get(
    "CAMPAIGN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DAEMON = {"poll": "2s", "lease": "2m", "retries": 3, "backoff": "1s", "shutdown_grace": "30s"}
"""The benchmarks' daemon settings; each benchmark adds its concurrency."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the machine ------------------------------------------------------------------------------


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_self() -> float:
    """CPU seconds of this process (the fakes' threads, and the benchmark's own polling)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_memory(pid: int) -> tuple[int, int]:
    """RSS now and at its peak, in bytes, from /proc."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found.get("VmRSS", 0), found.get("VmHWM", 0)


# --- the store --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A generated campaign: ``embassies`` x ``platforms`` accounts, ``posts`` posts each."""

    embassies: int
    posts: int = 1
    platforms: tuple[str, ...] = PLATFORMS
    spacing: str = "1s"
    grace: str = "3h"

    @property
    def deliveries(self) -> int:
        return self.embassies * len(self.platforms) * self.posts


def write_shape(folder: Path, shape: Shape) -> Path:
    start = dt.date.today() + dt.timedelta(days=1)
    embassies = [
        embassy(f"be-e{number:05d}", "UTC", ["en"], platforms=shape.platforms)
        for number in range(shape.embassies)
    ]
    posts = [post(f"p{number:03d}", day=number + 1) for number in range(shape.posts)]
    return write_campaign(
        folder,
        embassies=embassies,
        posts=posts,
        window={"start": start.isoformat(), "end": (start + dt.timedelta(days=60)).isoformat()},
        policies={"late": {"grace": shape.grace, "spacing": shape.spacing}},
    )


@contextmanager
def postgres_database(server: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A fresh PostgreSQL database for one run on ``server``, dropped afterwards; yields its
    URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(server)
    libpq = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"campaign_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the world --------------------------------------------------------------------------------


@dataclass
class Received:
    """What the platforms hold: each post's text, platform and the time its request arrived."""

    arrivals: dict[tuple[str, str], float]
    """First arrival (epoch seconds) of each post the platforms hold, by platform and text."""
    duplicates: int
    """Posts beyond the first with the same text on the same platform."""
    by_platform: Counter[str]

    @property
    def count(self) -> int:
        return sum(self.by_platform.values())


class World:
    """The store, the fakes and the daemons of one benchmark run."""

    def __init__(
        self, folder: Path, shape: Shape, *, latency: float, database_url: str | None = None
    ) -> None:
        self.folder = folder
        self.shape = shape
        self.latency = latency
        self.url = database_url or str(folder / "campaign.db")
        self.platforms = Platforms()
        self._arrivals: list[tuple[float, str, Request]] = []
        self.database: Database | None = None

    def __enter__(self) -> World:
        self.platforms.__enter__()
        for name in PLATFORMS:
            fake = getattr(self.platforms, name)
            fake.latency = self.latency
            fake.hooks.append(self._hook(name))
        self.database = open_database(self.url)
        sync_file(write_shape(self.folder, self.shape), self.database, actor="bench")
        self._enrol(self.database)
        return self

    @property
    def secrets_file(self) -> Path:
        return self.folder / "secrets" / "secrets.toml"

    def _enrol(self, database: Database) -> None:
        """Every account gets an identity on its fake, and its credentials in a secrets file, as
        in production (the environment stays small: an HTTP client reads it on every request)."""
        with database.snapshot() as session:
            accounts = list(session.scalars(select(Account)))
        lines = []
        for account in accounts:
            lines.append(f"[{json.dumps(account.credentials)}]")
            credentials = self.platforms._credentials(account)
            lines += [f"{name} = {json.dumps(value)}" for name, value in credentials.items()]
        write_private(self.secrets_file, "\n".join(lines) + "\n")

    def __exit__(self, *exc: object) -> None:
        if self.database is not None:
            self.database.close()
        self.platforms.__exit__()

    @property
    def deliveries(self) -> int:
        return self.shape.deliveries

    def _hook(self, name: str) -> Any:
        path = CREATE[name]

        def record(request: Request) -> None:
            if request.method == "POST" and request.path.endswith(path):
                self._arrivals.append((time.time(), name, request))

        return record

    def due_at(self, instants: Sequence[dt.datetime]) -> None:
        """Give the deliveries these due instants, in the order post, embassy, platform: one
        account's posts are as far apart in the list as the accounts are many."""
        assert self.database is not None
        with self.database.transaction() as session:
            ids = session.scalars(
                select(Delivery.id).order_by(
                    Delivery.post_id, Delivery.embassy_id, Delivery.platform
                )
            ).all()
            assert len(ids) == len(instants), (len(ids), len(instants))
            for delivery_id, instant in zip(ids, instants, strict=True):
                session.execute(
                    update(Delivery).where(Delivery.id == delivery_id).values(due_at=instant)
                )

    def due_by_text(self) -> dict[tuple[str, str], dt.datetime]:
        """Each delivery's due instant by platform and text (unique to the delivery there)."""
        assert self.database is not None
        with self.database.snapshot() as session:
            query = select(Delivery.platform, Delivery.payload, Delivery.due_at)
            rows = session.execute(query).all()
        return {(row.platform, row.payload["text"]): row.due_at for row in rows}

    def _posted(self) -> dict[str, list[str]]:
        """Each platform's posts, read under the fakes' locks (their handlers add to them)."""
        with self.platforms.x.lock, self.platforms.mastodon.lock, self.platforms.bluesky.lock:
            return self.platforms.posted_by_platform()

    def received(self) -> Received:
        posted = self._posted()
        duplicates = sum(len(texts) - len(set(texts)) for texts in posted.values())
        arrivals: dict[tuple[str, str], float] = {}
        for instant, name, request in list(self._arrivals):
            text = _text_of(name, request)
            if text is not None and (name, text) not in arrivals:
                arrivals[(name, text)] = instant
        held = {(name, text) for name, texts in posted.items() for text in texts}
        arrivals = {post: instant for post, instant in arrivals.items() if post in held}
        counts = Counter({name: len(texts) for name, texts in posted.items()})
        return Received(arrivals, duplicates, counts)

    def wait_received(self, count: int | None = None, timeout: float = 1800) -> Received:
        """Until the platforms hold ``count`` posts (every delivery by default)."""
        wanted = self.deliveries if count is None else count

        # The requests that arrived first (cheap to count), then the posts the fakes hold.
        what = f"{wanted} posts at the fakes"
        wait_for(lambda: len(self._arrivals) >= wanted, timeout=timeout, what=what, every=0.02)
        wait_for(lambda: self.posted_count() >= wanted, timeout=timeout, what=what, every=0.05)
        return self.received()

    def posted_count(self) -> int:
        return sum(len(texts) for texts in self._posted().values())

    def cpu_between(
        self, run: Daemons, low: float = 0.1, high: float = 0.9, timeout: float = 1800
    ) -> float:
        """The daemons' CPU per delivery in the steady part of a run: from the moment ``low`` of
        the deliveries' requests arrived at the platforms to the moment ``high`` of them did (the
        one-time costs of a start, such as loading a platform's SDK, fall outside)."""
        marks: list[float] = []
        for fraction in (low, high):
            wanted = max(1, round(self.deliveries * fraction))
            wait_for(lambda w=wanted: len(self._arrivals) >= w, timeout=timeout, every=0.02)
            marks.append(sum(run.cpu()))
            reached = len(self._arrivals)
            if fraction == low:
                first = reached
        return (marks[1] - marks[0]) / max(1, reached - first)

    def states(self) -> Counter[str]:
        assert self.database is not None
        with self.database.snapshot() as session:
            return Counter(session.scalars(select(Delivery.state)))

    @contextmanager
    def daemons(
        self,
        count: int,
        *,
        daemon: dict[str, Any] | None = None,
        platforms: dict[str, dict[str, Any]] | None = None,
        profile: Path | None = None,
    ) -> Iterator[Daemons]:
        """``count`` daemons, stopped (SIGTERM) when the block ends."""
        sections = {f"platforms.{name}": values for name, values in (platforms or {}).items()}
        env = {
            **self.platforms.env,
            "CAMPAIGN_DATABASE": self.url,
            "CAMPAIGN_SECRETS_FILE": str(self.secrets_file),
        }
        processes = []
        for number in range(count):
            name = f"d{number + 1}"
            config = write_config(
                self.folder / f"{name}.toml",
                daemon={**DAEMON, "worker_name": name, **(daemon or {})},
                **sections,
            )
            out = None if profile is None else Path(f"{profile}.{number + 1}")
            processes.append(
                _BenchDaemon(
                    env, ["--config", str(config)], self.folder / f"{name}.log", profile=out
                ).start()
            )
        running = Daemons(processes)
        try:
            yield running
        finally:
            running.stop()


_PROFILED = """
import atexit, cProfile, pstats, sys, threading, time
out = sys.argv.pop(1)
profiles = []
def profiled(run):
    def wrapper(self):
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()
    return wrapper
threading.Thread.run = profiled(threading.Thread.run)
main_profile = cProfile.Profile(time.thread_time)
profiles.append(main_profile)
def dump():
    main_profile.disable()
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        try:
            stats.add(profile)
        except TypeError:
            pass  # a thread that never ran a call
    stats.dump_stats(out)
atexit.register(dump)
main_profile.enable()
from scheduler.cli import main
main()
"""


@dataclass
class _BenchDaemon(DaemonProcess):
    profile: Path | None = None

    def start(self) -> _BenchDaemon:
        code = "from scheduler.cli import main; main()" if self.profile is None else _PROFILED
        profile = [] if self.profile is None else [str(self.profile)]
        command = [sys.executable, "-c", code, *profile, "run", *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        return self


@dataclass
class Daemons:
    processes: list[_BenchDaemon]
    _last_cpu: dict[int, float] = field(default_factory=dict)

    @property
    def pids(self) -> list[int]:
        return [process.process.pid for process in self.processes if process.process]

    def cpu(self) -> list[float]:
        """CPU seconds of each daemon so far (the last reading once it stopped)."""
        for pid in self.pids:
            with suppress(FileNotFoundError, ProcessLookupError):
                self._last_cpu[pid] = process_cpu(pid)
        return [self._last_cpu.get(pid, 0.0) for pid in self.pids]

    def memory(self) -> list[tuple[int, int]]:
        return [process_memory(pid) for pid in self.pids]

    def wait_ready(self, timeout: float = 120) -> None:
        """Until each daemon has said it is ready in its log."""
        for process in self.processes:
            wait_for(
                lambda p=process: "ready: worker" in p.output() or p.process.poll() is not None,
                timeout=timeout,
                what="the daemon to start",
                every=0.1,
            )

    def stop(self, timeout: float = 120) -> None:
        """One SIGTERM each, then wait: a second SIGTERM while the first one's handler runs
        can hang the daemon (scheduler/daemon/runner.py sets an Event in the handler)."""
        self.cpu()
        for process in self.processes:
            if process.process is not None and process.process.poll() is None:
                process.signal(signal.SIGTERM)
        for process in self.processes:
            if process.process is None:
                continue
            try:
                process.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"{process.log.name}: did not stop in {timeout:.0f} s; killed")
                process.kill()


def _text_of(name: str, request: Request) -> str | None:
    """The text a create request carries, as the platform reads it."""
    try:
        if name == "x":
            return str(request.json()["text"])
        if name == "mastodon":
            text = request.field("status")
            return text if text is not None else str(request.json()["status"])
        writes = request.json()["writes"]
        return str(writes[0]["value"]["text"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def scratch_folder(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    print(" | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
