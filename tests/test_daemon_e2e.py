"""The daemon as a real process against the fake platforms.

Each test syncs a small campaign, gives its accounts credentials on the fakes, runs
``campaign run`` in a subprocess and watches the store and the fakes. The store runs on SQLite
and on PostgreSQL (the ``database_url`` fixture).

Most tests run the daemon on a stepped clock (``Run.stepped``): campaign time moves only when
the test moves it, once the daemon is idle, so a slow or loaded machine changes nothing they
assert, down to the instant each post went out. The tests of real-time behaviour (signals,
kill -9, a pause in a running burst, two daemons, systemd and health) run on the wall clock with
deliveries due seconds ahead, and assert nothing about how fast time went.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import embassy, image, post, write_campaign
from daemon_harness import (
    DAEMON,
    HANG,
    DaemonProcess,
    Platforms,
    SteppedTime,
    all_in,
    states,
    wait_for,
    write_config,
)
from sqlalchemy import select
from store_dump import dump

from scheduler.service.control import pause, resume
from scheduler.service.queue import cancel_post, queue_add
from scheduler.service.sync import sync_file
from scheduler.store.database import Database, open_database
from scheduler.store.pauses import Scope
from scheduler.store.schema import Alert, Attempt, Delivery

pytestmark = pytest.mark.slow
FINISHED = {"sent", "failed", "missed", "cancelled"}
FAST_POLICIES = {"late": {"grace": "10m", "spacing": "1s"}}


START = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
"""Where a stepped test's campaign time begins."""


PLATFORM_NAMES = ("x", "mastodon", "bluesky")
PLATFORM_TIMEOUT = 2.0
"""Seconds for each platform request: short, so that a lost answer is looked for four seconds
after its call (twice the timeout) rather than a minute."""


def _soon(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat(timespec="seconds")


def _at(seconds: float) -> str:
    """``seconds`` after START: a due instant for a stepped test."""
    return (START + dt.timedelta(seconds=seconds)).isoformat()


@pytest.fixture
def platforms() -> Iterator[Platforms]:
    with Platforms() as started:
        yield started


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = open_database(database_url)
    yield opened
    opened.close()


class Run:
    """One test's campaign, store, fakes and daemon processes."""

    def __init__(self, tmp_path: Path, database_url: str, database: Database, platforms: Platforms):
        self.tmp_path = tmp_path
        self.url = database_url
        self.database = database
        self.platforms = platforms
        self.daemons: list[DaemonProcess] = []
        self.time: SteppedTime | None = None

    def stepped(self, start: dt.datetime = START) -> SteppedTime:
        """Campaign time that this test moves: the daemons started next and the fakes follow it."""
        self.time = SteppedTime(self.tmp_path / "clock", start)
        self.platforms.follow(self.time.now)
        return self.time

    def now(self) -> dt.datetime | None:
        """What the team's commands take as now: the stepped instant, or the wall clock."""
        return self.time.now() if self.time else None

    def sync(self, posts: list[dict[str, Any]], **campaign: Any) -> Path:
        fields = {"policies": FAST_POLICIES, **campaign}
        path = write_campaign(self.tmp_path, posts=posts, **fields)
        sync_file(path, self.database, actor="ines", now=self.now())
        self.platforms.enrol(self.database)
        return path

    def daemon(self, *args: str, name: str = "d1", **daemon: Any) -> DaemonProcess:
        timeouts = {f"platforms.{p}": {"timeout": PLATFORM_TIMEOUT} for p in PLATFORM_NAMES}
        config = write_config(
            self.tmp_path / f"{name}.toml",
            daemon={**DAEMON, "worker_name": name, **daemon},
            **timeouts,
        )
        env = {
            **self.platforms.env,
            "CAMPAIGN_DATABASE": self.url,
            "CAMPAIGN_SECRETS_FILE": str(self.tmp_path / "secrets" / "secrets.toml"),
        }
        clock = self.time.args if self.time else []
        process = DaemonProcess(
            env, ["--config", str(config), *clock, *args], self.tmp_path / f"{name}.log"
        )
        self.daemons.append(process.start())
        return process

    def finished(self, timeout: float = HANG) -> dict[str, str]:
        """Every delivery finished: on a stepped clock, moving time until then; on the wall
        clock, waiting (``timeout`` only catches a hang)."""
        check = all_in(self.database, FINISHED)
        if self.time is not None:
            return self.time.until(self.daemons[-1], check)
        return wait_for(check, timeout=timeout, what="every delivery finished")

    def close(self) -> None:
        for process in self.daemons:
            process.__exit__()


@pytest.fixture
def run(
    tmp_path: Path, database_url: str, database: Database, platforms: Platforms
) -> Iterator[Run]:
    started = Run(tmp_path, database_url, database, platforms)
    yield started
    started.close()


def _delivered(database: Database) -> list[Delivery]:
    with database.snapshot() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.sent_at)))


def _no_duplicates(platforms: Platforms) -> None:
    """Texts name their embassy, so on one platform a text seen twice was posted twice."""
    for texts in platforms.posted_by_platform().values():
        assert [text for text, n in Counter(texts).items() if n > 1] == []


def test_each_delivery_goes_out_once_on_time(run: Run) -> None:
    run.stepped()
    run.sync([post("launch", at=_at(300))])
    daemon = run.daemon()
    final = run.finished()
    assert set(final.values()) == {"sent"}, daemon.output()
    assert len(final) == 7  # the builders' three embassies have seven accounts
    rows = _delivered(run.database)
    assert all(row.sent_at == row.due_at for row in rows)  # a call takes no campaign time
    assert all(row.remote_url and row.remote_id for row in rows)
    assert len(run.platforms.x.posted) == 2
    assert len(run.platforms.mastodon.posted) == 3
    assert len(run.platforms.bluesky.posted) == 2
    _no_duplicates(run.platforms)
    assert daemon.stop() == 0
    _nothing_leaked(run, daemon)


def _nothing_leaked(run: Run, daemon: DaemonProcess) -> None:
    """No credential value in the daemon's log, nor anywhere in the database."""
    from scheduler.store.schema import Base

    secrets = [v for k, v in run.platforms.env.items() if k.startswith("CAMPAIGN_SECRET_")]
    assert secrets
    log = daemon.output()
    with run.database.snapshot() as session:
        stored = " ".join(
            str(row) for table in Base.metadata.sorted_tables
            for row in session.execute(table.select())
        )  # fmt: skip
    for secret in secrets:
        assert secret not in log
        assert secret not in stored


def test_local_times_across_time_zones_in_a_rehearsal(run: Run) -> None:
    """09:00 local in Tokyo, Paris and New York: 00:00, 08:00 and 14:00 UTC, in that order,
    each at its instant exactly, whatever the machine's load."""
    run.stepped(dt.datetime(2026, 11, 24, 23, 59, 50, tzinfo=dt.UTC))
    run.sync([post("launch", day=1, time="09:00")])
    run.daemon()
    run.finished()
    order = [(row.embassy_id, row.sent_at) for row in _delivered(run.database)]
    embassies_in_order = list(dict.fromkeys(embassy for embassy, _ in order))
    assert embassies_in_order == ["be-tokyo", "be-paris", "be-newyork"]
    hours = {row.embassy_id: row.due_at.astimezone(dt.UTC).hour for row in _delivered(run.database)}
    assert hours == {"be-tokyo": 0, "be-paris": 8, "be-newyork": 14}
    for row in _delivered(run.database):
        assert row.state == "sent", (row.key, row.error_message)
        assert row.sent_at == row.due_at


def test_a_thread_with_images_and_alt_text(run: Run) -> None:
    thread = [
        {"text": {"en": "1/2 {embassy} joins the 16 Days."}, "images": [image()]},
        {"text": {"en": "2/2 Digital violence is real violence."}},
    ]
    run.stepped()
    run.sync([{"id": "thread", "at": _at(120), "thread": thread}])
    run.daemon()
    final = run.finished()
    assert set(final.values()) == {"sent"}
    x_posts = run.platforms.x.posted
    firsts = [tweet for tweet in x_posts if tweet.text.startswith("1/2")]
    seconds = [tweet for tweet in x_posts if tweet.text.startswith("2/2")]
    assert len(firsts) == len(seconds) == 2
    assert {tweet.in_reply_to for tweet in seconds} == {tweet.id for tweet in firsts}
    assert all(tweet.media_ids for tweet in firsts)
    statuses = run.platforms.mastodon.posted
    assert all(
        status.media and status.media[0].description == "An orange banner."
        for status in statuses
        if status.text.startswith("1/2")
    )
    replies = [record for record in run.platforms.bluesky.posted if "reply" in record.value]
    assert len(replies) == 2


def test_transient_errors_and_rate_limits_are_retried(run: Run) -> None:
    run.stepped()
    due = START + dt.timedelta(minutes=1)
    run.sync([post("launch", at=due.isoformat())])
    run.platforms.mastodon.fail(503, path="/api/v1/statuses", times=2)
    reset = due + dt.timedelta(seconds=90)  # in the fakes' time, which is the daemon's
    run.platforms.x.rate_limit(reset, path="/2/tweets", times=1)
    run.daemon()
    final = run.finished()
    assert set(final.values()) == {"sent"}
    with run.database.snapshot() as session:
        outcomes = Counter(session.scalars(select(Attempt.outcome)))
    assert outcomes["server_error"] == 2
    assert outcomes["rate_limited"] == 1
    assert outcomes["sent"] == 7
    x_sent = sorted(row.sent_at for row in _delivered(run.database) if row.platform == "x")
    assert x_sent == [due, reset]  # one account on time, the rate-limited one at the reset
    _no_duplicates(run.platforms)


def test_a_post_queued_live_goes_out_and_one_cancelled_live_does_not(run: Run) -> None:
    time = run.stepped()
    run.sync([post("keep", at=_at(120)), post("drop", at=_at(360))])
    daemon = run.daemon()
    time.until(daemon, lambda: Counter(states(run.database).values())["sent"] == 7)
    queue_add(
        run.database,
        {"id": "live", "at": _at(180), "text": {"en": "Live from {embassy}."}},
        actor="marc",
        folder=run.tmp_path,
        now=run.now(),
    )
    cancel_post(run.database, "drop", actor="ines", reason="changed our mind", now=run.now())
    final = run.finished()
    assert {key.split("/")[1] for key, state in final.items() if state == "sent"} == {
        "keep",
        "live",
    }
    assert {state for key, state in final.items() if "/drop/" in key} == {"cancelled"}
    assert len(run.platforms.posted_texts()) == 14  # keep and live, on seven accounts each


def test_a_pause_stops_a_running_burst_and_resume_finishes_it(run: Run) -> None:
    embassies = [
        embassy(f"be-e{n:02}", "Europe/Paris", ["en"], platforms=("mastodon",)) for n in range(12)
    ]
    run.sync([post("burst", at=_soon(1))], embassies=embassies)
    run.platforms.mastodon.delay(0.3, path="/api/v1/statuses", times=None)
    run.daemon()
    wait_for(lambda: len(run.platforms.mastodon.posted) >= 2, what="the burst to start")
    pause(run.database, Scope(), reason="statement under review", actor="ines")
    at_pause = len(run.platforms.mastodon.posted)
    wait_for(lambda: not any(s in ("claimed", "sending") for s in states(run.database).values()),
             what="calls in flight to finish")  # fmt: skip
    after = len(run.platforms.mastodon.posted)
    assert after <= at_pause + DAEMON["max_in_flight"]  # only calls already in flight finished
    assert "scheduled" in states(run.database).values()
    resume(run.database, Scope(), actor="ines")
    final = run.finished()
    assert set(final.values()) == {"sent"}
    assert len(run.platforms.mastodon.posted) == 12


def test_retract_deletes_every_sent_copy(run: Run) -> None:
    from click.testing import CliRunner

    from scheduler.cli import main

    run.stepped()
    run.sync([post("launch", at=_at(60))])
    run.daemon()
    run.finished()
    env = {**run.platforms.env, "CAMPAIGN_DATABASE": run.url}
    result = CliRunner().invoke(
        main,
        ["retract", "launch", "--yes", "--reason", "wrong helpline"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "launch: 7 deleted, 0 not deleted" in result.output
    assert run.platforms.x.posted == [] and run.platforms.mastodon.posted == []
    assert run.platforms.bluesky.posted == []
    with run.database.snapshot() as session:  # the team hears of it (docs/operations.md)
        alerts = list(session.execute(select(Alert.kind, Alert.message)))
    assert ("retracted", "launch: retracted by ") in [(k, m[:21]) for k, m in alerts]


def test_sigterm_in_a_burst_exits_0_and_a_restart_finishes_without_duplicates(run: Run) -> None:
    embassies = [
        embassy(f"be-e{n:02}", "Europe/Paris", ["en"], platforms=("mastodon",)) for n in range(10)
    ]
    run.sync([post("burst", at=_soon(1))], embassies=embassies)
    run.platforms.mastodon.delay(0.5, path="/api/v1/statuses", times=None)
    first = run.daemon(name="first")
    wait_for(lambda: len(run.platforms.mastodon.posted) >= 1, what="the burst to start")
    assert first.stop() == 0, first.output()
    assert not any(s in ("claimed", "sending") for s in states(run.database).values())
    run.daemon(name="second")
    final = run.finished()
    assert set(final.values()) == {"sent"}
    assert len(run.platforms.mastodon.posted) == 10
    _no_duplicates(run.platforms)


def test_kill_9_mid_call_is_reconciled_not_posted_twice(run: Run) -> None:
    embassies = [embassy("be-paris", "Europe/Paris", ["en"], platforms=("mastodon",))]
    run.sync([post("launch", at=_soon(1))], embassies=embassies)
    run.platforms.mastodon.delay(3, path="/api/v1/statuses", times=1)
    first = run.daemon(name="first", lease="2s")
    wait_for(lambda: "sending" in states(run.database).values(), what="the call to start")
    first.signal(signal.SIGKILL)
    first.process.wait(timeout=10)  # type: ignore[union-attr]
    run.daemon(name="second", lease="2s")
    final = run.finished()
    assert set(final.values()) == {"sent"}
    assert len(run.platforms.mastodon.posted) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # several daemons: PG
def test_two_daemons_on_postgresql_send_each_delivery_once(run: Run) -> None:
    assert run.url.startswith("postgresql")
    embassies = [embassy(f"be-e{n:02}", "Europe/Paris", ["en"]) for n in range(12)]
    later = {"en": "{embassy}: and a second post, a moment later."}
    run.sync(
        [post("burst", at=_soon(2)), post("later", at=_soon(4), text=later)], embassies=embassies
    )
    run.daemon(name="alpha")
    run.daemon(name="beta")
    final = run.finished()
    assert len(final) == 72 and set(final.values()) == {"sent"}
    _no_duplicates(run.platforms)
    with run.database.snapshot() as session:
        workers = Counter(session.scalars(select(Attempt.worker)))
    assert set(workers) == {"alpha", "beta"}
    assert sum(workers.values()) == 72


def test_a_bad_account_is_suspended_others_go_on_and_the_team_hears_of_it(run: Run) -> None:
    from fakes.alerts import FakeAlerts

    with FakeAlerts() as alerts:
        time = run.stepped()
        run.sync([post("launch", at=_at(120))])
        run.platforms.x.fail(402, path="/2/tweets", times=1)  # one X account has no credit
        run.platforms.mastodon.fail(422, path="/api/v1/statuses", times=1)  # one text refused
        config = write_config(
            run.tmp_path / "alerts.toml",
            daemon={**DAEMON, "worker_name": "d1"},
            alerts={"urls": [alerts.apprise_url()], "digest": "1s"},
        )
        daemon = run.daemon("--config", str(config))
        settled = time.until(
            daemon,
            lambda: (found := states(run.database)) and Counter(found.values()) == Counter(
                {"sent": 5, "failed": 1, "retry_waiting": 1}
            ) and found,
        )  # fmt: skip
        waiting = [key for key, state in settled.items() if state == "retry_waiting"]
        assert waiting and "/x/" in waiting[0]

        # The digest keeps its wall-clock period (it is about people, not the schedule), so the
        # two alerts may come in one digest or in two, by how busy the machine is: wait for both.
        def heard() -> str:
            text = " ".join(str(message) for message in alerts.messages)
            return text if "suspended" in text and "failed" in text else ""

        wait_for(heard, timeout=HANG, what="digests telling of the suspension and the failure")
        embassy_id = waiting[0].split("/")[2]
        scope = Scope(embassy_id=embassy_id, platform="x")
        resume(run.database, scope, actor="ines", now=run.now())
        final = run.finished()
        assert Counter(final.values()) == Counter({"sent": 6, "failed": 1})
        assert daemon.stop() == 0


def test_systemd_readiness_health_metrics_and_reload(run: Run) -> None:
    import re
    import socket
    import urllib.request

    run.sync([post("launch", at=_soon(1))])
    # Unix socket paths are short (108 bytes): the pytest folder may be too deep for one.
    notify_path = f"/tmp/campaign-notify-{id(run)}.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(HANG)  # a loaded machine may take long to start the daemon
    try:
        run.platforms.env["NOTIFY_SOCKET"] = notify_path
        daemon = run.daemon(health_port=0)
        assert notify.recv(4096) == b"READY=1"
        run.finished()
        port = int(wait_for(lambda: re.search(r"127\.0\.0\.1:(\d+)/", daemon.output()),
                            what="the health port in the log").group(1))  # fmt: skip
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=HANG) as answer:
            assert answer.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=HANG) as answer:
            metrics = answer.read().decode()
        assert 'campaign_deliveries{state="sent"} 7' in metrics
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "settings reloaded" in daemon.output(), what="the reload")
        assert daemon.stop() == 0
        received = []
        while b"STOPPING=1" not in received:
            received.append(notify.recv(4096))
    finally:
        notify.close()
        Path(notify_path).unlink(missing_ok=True)


def test_signals_back_to_back_neither_hang_nor_get_lost(run: Run) -> None:
    """An operator's repeated reloads, then systemd's SIGTERM and a second one: a handler that
    set an Event could deadlock on the lock the main thread held at that instant. The daemon
    stops with 0, and the reloads were done."""
    run.sync([post("launch", at=_soon(1))])
    daemon = run.daemon()
    run.finished()
    for _ in range(300):
        daemon.signal(signal.SIGHUP)
    wait_for(lambda: "settings reloaded" in daemon.output(), what="a reload")
    for _ in range(20):
        daemon.signal(signal.SIGTERM)
    assert daemon.stop() == 0
    assert "stopped: 0 claims released" in daemon.output()


def _scratch_named_in(output: str) -> Path | None:
    found = re.search(r"dry run: working on a scratch copy at (\S+);", output)
    return Path(found.group(1)) if found else None


def _file_digest(database: Database) -> str | None:
    """A SQLite file's sha256, once every connection is closed (so its WAL is folded in)."""
    if database.dialect != "sqlite":
        return None
    database.close()
    path = Path(str(database.engine.url.database))
    assert not Path(f"{path}-wal").exists(), "a WAL left: the file alone is not the database"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dry_run_works_on_a_scratch_copy_and_leaves_the_shared_database_alone(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.alerts import FakeAlerts

    monkeypatch.setenv("TMPDIR", str(run.tmp_path))  # where the daemon makes its scratch folder
    an_hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    run.sync([post("launch", at=_soon(1)), post("late", at=an_hour_ago)])
    shared, shared_file = dump(run.database), _file_digest(run.database)
    with FakeAlerts() as alerts:
        config = write_config(
            run.tmp_path / "alerts.toml",
            daemon={**DAEMON, "worker_name": "d1"},
            alerts={"urls": [alerts.apprise_url()], "digest": "1s"},
        )
        daemon = run.daemon("--dry-run", "--config", str(config))
        path = wait_for(lambda: _scratch_named_in(daemon.output()), what="the scratch copy")
        with closing(open_database(str(path))) as scratch:
            final = wait_for(all_in(scratch, FINISHED), timeout=45, what="the dry run finished")
            logged = "alerts (dry run: sent to no one)"
            wait_for(lambda: logged in daemon.output(), what="the alerts logged, not sent")
            assert daemon.stop() == 0
            sent = _delivered(scratch)
        assert alerts.messages == []
    # (a) The shared database: not a byte changed, not a row.
    assert _file_digest(run.database) == shared_file
    assert dump(run.database) == shared
    # (b) The scratch copy holds what the dry run did, and stays for inspection.
    assert Counter(final.values()) == Counter({"sent": 7, "missed": 7}), daemon.output()
    remote_ids = [row.remote_id or "" for row in sent if row.state == "sent"]
    assert len(remote_ids) == 7 and all(i.startswith("dry-run:") for i in remote_ids)
    assert path.parent.parent == run.tmp_path and path.is_file()
    assert f"the dry run's scratch copy is left at {path}" in daemon.output()
    # (c) Nothing reached a platform.
    assert run.platforms.posted_texts() == []


def test_dry_run_refuses_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    config = write_config(tmp_path / "d1.toml", daemon=DAEMON)
    args = ["--config", str(config), "--dry-run", "--database", str(missing)]
    with DaemonProcess({}, args, tmp_path / "d1.log") as daemon:
        assert daemon.process is not None
        assert daemon.process.wait(timeout=30) == 1
    assert f"error: no database at {missing}: nothing to copy" in daemon.output()
    assert not missing.exists()
