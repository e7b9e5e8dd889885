"""A small HTTP server for fake platforms, with faults that a test switches on.

Each fake (``tests.fakes.x``, ``.mastodon``, ``.bluesky``) subclasses :class:`FakeServer`,
declares its routes with :func:`route`, and says what its platform's errors and rate-limit
headers look like. Nothing here needs pytest, so ``bench/`` and the reliability harness can
start a fake the same way::

    with FakeMastodon() as fake:
        adapter = MastodonAdapter(..., base_url=fake.url)

Faults apply to the next matching requests (``times``) and are checked in order:

- ``fake.fail(503)``: answer with that status and the platform's own error body;
- ``fake.rate_limit(reset_at)``: 429 with the platform's rate-limit headers;
- ``fake.delay(seconds)``: answer late (the handler waits on an event, never a bare sleep);
- ``fake.latency = seconds``: every request is answered that late, after the platform acted
  (a benchmark's network and platform time: a wait, no CPU);
- ``fake.drop()``: close the connection without acting or answering;
- ``fake.commit_then_drop()``: act (the post exists), then close without answering;
- ``fake.commit_then_fail(503)``: act, then answer with an error as if nothing happened;
- ``fake.late_commit(gate)``: hold the request until the test sets ``gate`` (the client has
  long given up by then), then act and close without answering: a commit that lands late;
- ``fake.together(n)``: hold matching requests until ``n`` of them wait at once, which a test
  uses to prove that calls run in parallel (it fails by timeout if they do not).

Any fault takes ``chance=p`` to apply to each matching request with that probability (with
``times=None``: a fault rate), drawn from ``fake.random``, seeded, so a run can be replayed.
``fake.hooks`` are called with every request before it is answered: where a harness kills a
daemon in the middle of a call.

``fake.in_flight_peak`` records, per bearer of an ``Authorization`` header, the most requests
it had under way at once: how a test checks that one account's calls never overlap.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

Clock = Callable[[], dt.datetime]
HOLD_TIMEOUT = 60.0
"""Seconds a held request waits at most: only a hung test ever reaches it."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    url: str
    """As the client addressed it (scheme, host, port, path and query), for signatures."""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[bytes]]:
        """Fields of a multipart/form-data or urlencoded body, each with all its values."""
        content_type = self.headers.get("content-type", "")
        fields: dict[str, list[bytes]] = {}
        if content_type.startswith("application/x-www-form-urlencoded"):
            parsed = parse_qs(self.body.decode(), keep_blank_values=True)
            return {key: [value.encode() for value in values] for key, values in parsed.items()}
        if not content_type.startswith("multipart/form-data"):
            return fields
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields.setdefault(name, []).append(payload)
        return fields

    def field(self, name: str) -> str | None:
        """One form field as text, or None."""
        values = self.form().get(name)
        return values[-1].decode() if values else None


@dataclass
class Response:
    status: int
    body: Any = None
    """JSON-able; None sends no body; a ``str`` is sent as it is (a form-encoded OAuth answer,
    an HTML page), as ``text/plain`` unless ``headers`` say otherwise."""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    commit_then_drop: bool = False
    commit_first: bool = False
    """With ``status``: act first, then answer with that error."""
    gate: threading.Event | None = None
    """Hold the request until the test sets it."""
    barrier: threading.Barrier | None = None
    """Hold the request until the barrier's other parties arrive."""
    times: int | None = 1
    """How many matching requests it applies to; None for every one."""
    chance: float = 1.0
    """The probability that it applies to a matching request (drawn from the fake's seeded
    random source, so a run can be replayed)."""
    method: str | None = None
    path: str | None = None
    """A regular expression the request path must match (``re.search``)."""

    def matches(self, request: Request) -> bool:
        if self.method and self.method != request.method:
            return False
        return not self.path or re.search(self.path, request.path) is not None


class Dropped(Exception):
    """Raised inside a handler to close the connection without an answer."""


Handler = Callable[..., Response]
_ROUTE_ATTRIBUTE = "_fake_route"


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Declare a handler for ``method`` on paths fully matching ``pattern`` (named groups)."""

    def declare(handler: Handler) -> Handler:
        setattr(handler, _ROUTE_ATTRIBUTE, (method, re.compile(pattern)))
        return handler

    return declare


class FakeServer:
    """Serves on 127.0.0.1 at an ephemeral port, in a background thread."""

    name: ClassVar[str] = "fake"

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.requests: list[Request] = []
        """Every request received, in order, faults included."""
        self.faults: list[Fault] = []
        self.random = random.Random(0)
        """Draws the faults given a ``chance``; reseed it to replay another run."""
        self.hooks: list[Callable[[Request], None]] = []
        """Called with every request before it is answered (a harness kills a daemon there)."""
        self.in_flight: Counter[str] = Counter()
        self.in_flight_peak: Counter[str] = Counter()
        self.latency = 0.0
        """Seconds every answer waits after the platform acted (see the module's docstring)."""
        self.lock = threading.RLock()
        self._released = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = [
            (*getattr(function, _ROUTE_ATTRIBUTE), getattr(self, name))
            for name, function in _class_functions(type(self))
            if hasattr(function, _ROUTE_ATTRIBUTE)
        ]

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> Self:
        fake = self

        class _Handler(_RequestHandler):
            server_fake = fake

        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # delayed handlers return at once
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the fake first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- faults -----------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def fail(self, status: int, body: Any = None, **where: Any) -> Fault:
        return self.inject(Fault(status=status, body=body, **where))

    def rate_limit(self, reset_at: dt.datetime, **where: Any) -> Fault:
        headers = self.rate_limit_headers(limit=100, remaining=0, reset_at=reset_at)
        return self.inject(Fault(status=429, headers=headers, **where))

    def delay(self, seconds: float, **where: Any) -> Fault:
        return self.inject(Fault(delay=seconds, **where))

    def drop(self, **where: Any) -> Fault:
        return self.inject(Fault(drop=True, **where))

    def commit_then_drop(self, **where: Any) -> Fault:
        return self.inject(Fault(commit_then_drop=True, **where))

    def commit_then_fail(self, status: int, **where: Any) -> Fault:
        return self.inject(Fault(status=status, commit_first=True, **where))

    def late_commit(self, gate: threading.Event, **where: Any) -> Fault:
        return self.inject(Fault(gate=gate, commit_then_drop=True, **where))

    def together(self, parties: int, **where: Any) -> Fault:
        barrier = threading.Barrier(parties, timeout=HOLD_TIMEOUT)
        return self.inject(Fault(barrier=barrier, **{"times": None, **where}))

    def _take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.matches(request) or self.random.random() >= fault.chance:
                    continue
                if fault.times is None or fault.times > 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # --- what a platform overrides ------------------------------------------------------------

    def error_body(self, status: int, message: str | None = None) -> Any:
        return {"error": message or f"status {status}"}

    def rate_limit_headers(
        self, *, limit: int, remaining: int, reset_at: dt.datetime
    ) -> dict[str, str]:
        return {}

    def error(self, status: int, message: str | None = None, **headers: str) -> Response:
        return Response(status, self.error_body(status, message), dict(headers))

    # --- dispatch ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "")
        with self.lock:
            self.requests.append(request)
            self.in_flight[bearer] += 1
            self.in_flight_peak[bearer] = max(self.in_flight_peak[bearer], self.in_flight[bearer])
        try:
            for hook in list(self.hooks):
                hook(request)
            response = self._answer(request, self._take_fault(request))
            if self.latency:
                self._released.wait(self.latency)
            return response
        finally:
            with self.lock:
                self.in_flight[bearer] -= 1

    def _answer(self, request: Request, fault: Fault | None) -> Response:
        if fault is None:
            return self._route(request)
        self._hold(fault)
        if fault.drop:
            raise Dropped
        if fault.status is not None and not fault.commit_first:
            return self._fault_response(fault)
        response = self._route(request)
        if fault.commit_then_drop:
            raise Dropped
        return self._fault_response(fault) if fault.status is not None else response

    def _hold(self, fault: Fault) -> None:
        if fault.delay:
            self._released.wait(fault.delay)
        if fault.gate is not None:
            fault.gate.wait(HOLD_TIMEOUT)
        if fault.barrier is not None:
            fault.barrier.wait()

    def _fault_response(self, fault: Fault) -> Response:
        assert fault.status is not None
        body = fault.body if fault.body is not None else self.error_body(fault.status)
        return Response(fault.status, body, dict(fault.headers))

    def _route(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                with self.lock:
                    return handler(request, **match.groupdict())  # type: ignore[no-any-return]
        return self.error(404, f"no route for {request.method} {request.path}")

    def routes(self) -> Iterator[tuple[str, str]]:
        for method, pattern, _ in self._routes:
            yield method, pattern.pattern


def _class_functions(cls: type) -> Iterator[tuple[str, Any]]:
    """Functions defined on ``cls`` and its bases (not properties: they would run)."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if name not in seen and callable(value):
                seen.add(name)
                yield name, value


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of clients (a daemon's reconciliation
    # threads) would see connections refused, which no platform does.
    request_queue_size = 128


class _RequestHandler(BaseHTTPRequestHandler):
    server_fake: ClassVar[FakeServer]
    protocol_version = "HTTP/1.0"  # one request per connection: a dropped one is unambiguous

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read fake.requests instead

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client died mid-body (a daemon killed while sending): no web server hands
            # half a request to the application, so no platform acts on it or keeps its key.
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        host = self.headers.get("Host", "")
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            url=f"http://{host}{self.path}",
        )
        try:
            response = self.server_fake.dispatch(request)
            self._send(response)
        except Dropped:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout) or was killed

    def _send(self, response: Response) -> None:
        content_type = "application/json; charset=utf-8"
        if response.body is None:
            payload = b""
        elif isinstance(response.body, str):
            payload, content_type = response.body.encode(), "text/plain; charset=utf-8"
        else:
            payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        headers = {"Content-Type": content_type, **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle
