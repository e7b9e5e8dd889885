"""What operators see of a running daemon: logs, systemd notifications, /healthz and /metrics.

- :func:`configure_logging`: one handler on the root logger, human lines or JSON lines, on stderr
  (which systemd sends to the journal);
- :class:`SdNotify`: ``READY=1``, ``STOPPING=1``, ``RELOADING=1``, ``STATUS=...`` and
  ``WATCHDOG=1`` datagrams to ``$NOTIFY_SOCKET``, the sd_notify(3) protocol without libsystemd;
- :class:`HealthServer`: ``GET /healthz`` and ``GET /metrics`` on 127.0.0.1 only;
- :func:`metrics_text`: the Prometheus text format (0.0.4), from the store and the dispatcher.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from scheduler.errors import ConfigurationError
from scheduler.settings import LogFormat
from scheduler.store.database import Database
from scheduler.store.queries import gauges
from scheduler.store.states import DeliveryState

log = logging.getLogger("campaign.ops")

# --- logs -------------------------------------------------------------------------------------

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET_LOGGERS = ("apprise", "apscheduler", "urllib3", "httpx", "httpcore")
"""Libraries whose INFO lines are noise for an operator; they log from WARNING up."""


class _UTCFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _iso(record.created)


class JSONFormatter(logging.Formatter):
    """One JSON object a line: ts (ISO 8601, UTC), level, logger, message, the record's
    ``extra`` fields, and ``exc`` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_FIELDS
        )
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _iso(created: float) -> str:
    instant = dt.datetime.fromtimestamp(created, dt.UTC)
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _LogHandler(logging.StreamHandler[IO[str]]):
    """Ours, so that configuring again replaces it instead of adding a second one."""


def configure_logging(
    log_format: LogFormat, level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Send every log record at ``level`` and above to ``stream`` (stderr), one line each."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _LogHandler)]:
        root.removeHandler(handler)
        handler.close()
    handler = _LogHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        JSONFormatter() if log_format == LogFormat.JSON else _UTCFormatter(HUMAN_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# --- systemd ----------------------------------------------------------------------------------


class SdNotify:
    """sd_notify(3) over a datagram socket; every method does nothing outside systemd.

    A failure to notify is logged and never raised: systemd going away must not stop sending."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog = _watchdog_interval(env)
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between two ``watchdog()`` calls (half of systemd's WatchdogSec), or None."""
        return self._watchdog

    def ready(self) -> bool:
        return self.send("READY=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def reloading(self) -> bool:
        # systemd 253 and later match the reload to this monotonic instant; earlier ones ignore it.
        microseconds = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={microseconds}")

    def status(self, text: str) -> bool:
        return self.send("STATUS=" + " ".join(text.split()))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; True if it was sent."""
        if self.address is None:
            return False
        data = "\n".join(assignments).encode()
        try:
            with self._lock:
                if self._socket is None:
                    self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.sendto(data, self.address)
        except OSError as exc:
            log.warning("sd_notify %s: %s", assignments[0], exc)
            return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _socket_address(value: str) -> str | None:
    if value.startswith("@"):
        return "\0" + value[1:]  # an abstract socket: no file, just a name
    if value.startswith("/"):
        return value
    if value:
        log.warning("NOTIFY_SOCKET: only unix sockets are supported; systemd not notified")
    return None


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None  # meant for another process (we were started by one that was watched)
    try:
        microseconds = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return microseconds / 2 / 1_000_000 if microseconds > 0 else None


# --- /healthz and /metrics --------------------------------------------------------------------

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Health = Callable[[], tuple[bool, str]]
Metrics = Callable[[], str]


class HealthServer:
    """``GET /healthz`` (200 ``ok ...`` or 503 and why) and ``GET /metrics`` on 127.0.0.1.

    Loopback only: the metrics name embassies and accounts, and nothing here authenticates.
    Port 0 takes a free port; ``port`` tells which."""

    def __init__(self, port: int, *, health: Health, metrics: Metrics) -> None:
        self._requested = port
        self._health = health
        self._metrics = metrics
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server is not None else self._requested

    def start(self) -> None:
        try:
            server = _Server(("127.0.0.1", self._requested), _Requests)
        except OSError as exc:
            raise ConfigurationError(
                f"daemon.health_port: cannot listen on 127.0.0.1:{self._requested}: {exc.strerror}"
            ) from exc
        server.health, server.metrics = self._health, self._metrics
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="health", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    health: Health
    metrics: Metrics


class _Requests(BaseHTTPRequestHandler):
    server: _Server
    server_version = "campaign"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._healthz()
        elif path == "/metrics":
            self._answer(HTTPStatus.OK, self.server.metrics(), METRICS_CONTENT_TYPE)
        else:
            self._answer(HTTPStatus.NOT_FOUND, "not found: try /healthz or /metrics\n")

    def _healthz(self) -> None:
        try:
            healthy, detail = self.server.health()
        except Exception as exc:  # a broken check is an unhealthy daemon, not a dead server
            log.warning("health check failed", exc_info=True)
            healthy, detail = False, f"health check failed: {type(exc).__name__}"
        if healthy:
            self._answer(HTTPStatus.OK, f"ok {detail}".strip() + "\n")
        else:
            self._answer(HTTPStatus.SERVICE_UNAVAILABLE, f"{detail or 'unhealthy'}\n")

    def _answer(
        self, status: HTTPStatus, text: str, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


# --- metrics ----------------------------------------------------------------------------------

DISPATCHER_EVENTS = (
    "sent",
    "failed",
    "retried",
    "unknown",
    "missed",
    "suspended",
    "lost",
    "errors",
)
"""The dispatcher's counters (Dispatcher.stats), always exported, 0 until they happen."""


def metrics_text(
    database: Database,
    stats: Mapping[str, int],
    *,
    in_flight: int,
    last_dispatch: dt.datetime | None,
    worker: str,
) -> str:
    """The Prometheus text exposition (format 0.0.4) of the store and this daemon."""
    with database.snapshot() as session:
        store = gauges(session)
    states = _state_counts(store.states)
    events = [*DISPATCHER_EVENTS, *sorted(set(stats) - set(DISPATCHER_EVENTS))]
    stamp = last_dispatch.timestamp() if last_dispatch is not None else 0.0
    families = [
        _family(
            "campaign_deliveries",
            "gauge",
            "Deliveries in the store, by state (every daemon sees the same).",
            [({"state": state}, count) for state, count in states.items()],
        ),
        _family(
            "campaign_dispatcher_events_total",
            "counter",
            "What this daemon's dispatcher did since it started.",
            [({"event": event}, stats.get(event, 0)) for event in events],
        ),
        _family(
            "campaign_in_flight",
            "gauge",
            "Platform calls under way in this daemon.",
            [({}, in_flight)],
        ),
        _family(
            "campaign_last_dispatch_timestamp_seconds",
            "gauge",
            "When this daemon last looked for due deliveries (Unix time; 0: not yet).",
            [({}, stamp)],
        ),
        _family(
            "campaign_active_pauses", "gauge", "Pauses not lifted.", [({}, store.active_pauses)]
        ),
        _family(
            "campaign_suspended_accounts",
            "gauge",
            "Accounts suspended by a daemon.",
            [({}, store.suspended_accounts)],
        ),
        _family(
            "campaign_unsent_alerts",
            "gauge",
            "Alerts waiting for the next digest.",
            [({}, store.unsent_alerts)],
        ),
        _family(
            "campaign_worker_info", "gauge", "This daemon's worker name.", [({"worker": worker}, 1)]
        ),
    ]
    return "".join(families)


def _state_counts(stored: Mapping[str, int]) -> dict[str, int]:
    """Every state this version knows, in its order, 0 or not; then any other state found."""
    found = dict(stored)
    counts = {str(state): found.pop(str(state), 0) for state in DeliveryState}
    counts.update(sorted(found.items()))  # a state this version does not know: shown, not lost
    return counts


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]
) -> str:
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        rendered = ",".join(f'{key}="{_escape_label(text)}"' for key, text in labels.items())
        lines.append(
            f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}"
        )
    return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))
