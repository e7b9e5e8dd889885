"""Operations (daemon.ops): logs, sd_notify over a real datagram socket, /healthz and /metrics
over real HTTP, and the metrics of a real synced campaign."""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import logging
import os
import re
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_builders import write_campaign
from sqlalchemy import update

from scheduler.daemon.ops import (
    DISPATCHER_EVENTS,
    METRICS_CONTENT_TYPE,
    HealthServer,
    SdNotify,
    configure_logging,
    metrics_text,
)
from scheduler.errors import ConfigurationError
from scheduler.service.control import pause
from scheduler.service.sync import sync_file
from scheduler.settings import LogFormat
from scheduler.store.database import Database
from scheduler.store.pauses import Scope
from scheduler.store.schema import Account
from scheduler.store.states import DeliveryState

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
ACCOUNTS = 7  # the builders' campaign: one post on seven accounts

# --- logs -------------------------------------------------------------------------------------


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was: configure_logging changes it for the process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_json_lines_carry_the_fields_the_extras_and_the_exception() -> None:
    stream = io.StringIO()
    configure_logging(LogFormat.JSON, stream=stream)
    log = logging.getLogger("campaign.test")
    log.info("sent %s", "launch", extra={"delivery": "c/launch/be-tokyo/x/1", "attempt": 2})
    log.debug("not at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("call failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO"
    assert first["logger"] == "campaign.test"
    assert first["message"] == "sent launch"
    assert (first["delivery"], first["attempt"]) == ("c/launch/be-tokyo/x/1", 2)
    stamp = dt.datetime.fromisoformat(first["ts"])
    assert stamp.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=1)
    assert second["level"] == "ERROR"
    assert "ValueError: boom" in second["exc"]
    assert "exc" not in first


@pytest.mark.usefixtures("root_logging")
def test_configuring_twice_keeps_one_handler_and_the_last_format() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LogFormat.JSON, stream=first)
    configure_logging(LogFormat.HUMAN, logging.DEBUG, stream=second)
    logging.getLogger("campaign.test").debug("once")
    assert first.getvalue() == ""
    [line] = second.getvalue().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DEBUG   campaign\.test: once", line
    ), line
    assert logging.getLogger("apprise").getEffectiveLevel() >= logging.WARNING


# --- sd_notify --------------------------------------------------------------------------------


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket standing in for systemd; yields it and its NOTIFY_SOCKET value."""
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)  # a deadline for recv, never a wait for its own sake
        yield server, str(path)


def test_sd_notify_sends_the_exact_datagrams(notify_socket: tuple[socket.socket, str]) -> None:
    server, address = notify_socket
    notify = SdNotify({"NOTIFY_SOCKET": address})
    assert notify.enabled
    assert notify.ready()
    assert server.recv(4096) == b"READY=1"
    notify.status("sending\n3 in flight")
    assert server.recv(4096) == b"STATUS=sending 3 in flight"
    notify.watchdog()
    assert server.recv(4096) == b"WATCHDOG=1"
    notify.reloading()
    assert re.fullmatch(rb"RELOADING=1\nMONOTONIC_USEC=\d+", server.recv(4096))
    notify.stopping()
    assert server.recv(4096) == b"STOPPING=1"
    notify.close()


def test_sd_notify_reaches_an_abstract_socket() -> None:
    name = f"campaign-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        notify = SdNotify({"NOTIFY_SOCKET": "@" + name})
        assert notify.ready()
        assert server.recv(4096) == b"READY=1"
        notify.close()


def test_sd_notify_outside_systemd_does_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = SdNotify({})
    assert not quiet.enabled
    assert not quiet.ready()
    assert not quiet.watchdog()
    assert quiet.watchdog_interval is None
    gone = SdNotify({"NOTIFY_SOCKET": str(tmp_path / "no-such.sock")})
    assert not gone.ready(), "a vanished systemd is logged, never raised"
    assert "sd_notify READY=1" in caplog.text
    gone.close()


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_systemds(
    environ: dict[str, str], interval: float | None
) -> None:
    assert SdNotify(environ).watchdog_interval == interval


# --- /healthz and /metrics --------------------------------------------------------------------


def _get(port: int, path: str) -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, response.getheader("Content-Type") or "", body
    finally:
        connection.close()


def test_health_server_answers_on_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    state = {"healthy": True}

    def health() -> tuple[bool, str]:
        if state.get("broken"):
            raise RuntimeError("database gone")
        return (True, "worker w1") if state["healthy"] else (False, "last dispatch 95s ago")

    with HealthServer(0, health=health, metrics=lambda: "campaign_up 1\n") as server:
        assert server.port > 0
        assert _get(server.port, "/healthz") == (200, "text/plain; charset=utf-8", "ok worker w1\n")
        state["healthy"] = False
        status, _, body = _get(server.port, "/healthz")
        assert (status, body) == (503, "last dispatch 95s ago\n")
        state["broken"] = True
        assert _get(server.port, "/healthz")[:1] == (503,)
        assert _get(server.port, "/metrics?x=1") == (200, METRICS_CONTENT_TYPE, "campaign_up 1\n")
        assert _get(server.port, "/")[0] == 404
        port = server.port
    with pytest.raises(OSError):
        _get(port, "/healthz")
    assert capsys.readouterr().err == "", "requests go to the logger, not to stderr"


def test_a_taken_port_is_a_configuration_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HealthServer(port, health=lambda: (True, ""), metrics=lambda: "")
        with pytest.raises(ConfigurationError, match=f"127.0.0.1:{port}"):
            server.start()
        server.stop()


_SAMPLE = re.compile(r'^([a-z_]+)(?:\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)*)\})? (\S+)$')
_LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def _parse(
    text: str,
) -> tuple[dict[str, str], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Types by family, and value by (name, labels): the checks a Prometheus scrape makes."""
    types: dict[str, str] = {}
    helps: set[str] = set()
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name in helps and name not in types, line
            types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, line
            name, labels, value = match.groups()
            assert name in types, f"{name}: sample before its TYPE"
            key = (name, tuple(_LABEL.findall(labels or "")))
            assert key not in samples, f"duplicate sample {line}"
            samples[key] = float(value)
    return types, samples


def test_metrics_of_a_synced_campaign(tmp_path: Path, database: Database) -> None:
    sync_file(write_campaign(tmp_path), database, actor="ines", now=NOW)
    pause(database, Scope(embassy_id="be-tokyo"), reason="wrong card", actor="ines", now=NOW)
    with database.transaction() as session:
        session.execute(
            update(Account).where(Account.embassy_id == "be-paris").values(suspended_at=NOW)
        )
    stats = Counter({"sent": 3, "failed": 1, 'odd "key"\\': 1})
    last = dt.datetime(2026, 11, 25, 9, 0, 0, 250000, tzinfo=dt.UTC)
    text = metrics_text(database, stats, in_flight=2, last_dispatch=last, worker='host "a"')
    types, samples = _parse(text)

    assert types["campaign_deliveries"] == "gauge"
    assert types["campaign_dispatcher_events_total"] == "counter"
    deliveries = {
        labels[0][1]: value for (name, labels), value in samples.items()
        if name == "campaign_deliveries"
    }  # fmt: skip
    assert deliveries == {str(state): 0 for state in DeliveryState} | {"scheduled": ACCOUNTS}
    events = {
        labels[0][1]: value for (name, labels), value in samples.items()
        if name == "campaign_dispatcher_events_total"
    }  # fmt: skip
    assert set(DISPATCHER_EVENTS) <= set(events)
    assert (events["sent"], events["failed"], events["lost"]) == (3, 1, 0)
    assert events['odd \\"key\\"\\\\'] == 1, "label values are escaped"
    assert samples[("campaign_in_flight", ())] == 2
    assert samples[("campaign_last_dispatch_timestamp_seconds", ())] == last.timestamp()
    assert samples[("campaign_active_pauses", ())] == 1
    assert samples[("campaign_suspended_accounts", ())] == 2  # Paris: Mastodon and Bluesky
    assert samples[("campaign_unsent_alerts", ())] == 1  # the pause's
    assert samples[("campaign_worker_info", (("worker", 'host \\"a\\"'),))] == 1


def test_metrics_before_any_dispatch(database: Database) -> None:
    _, samples = _parse(metrics_text(database, {}, in_flight=0, last_dispatch=None, worker="w"))
    assert samples[("campaign_last_dispatch_timestamp_seconds", ())] == 0
    assert samples[("campaign_dispatcher_events_total", (("event", "errors"),))] == 0
