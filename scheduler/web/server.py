"""The dashboard served by uvicorn: in the foreground (`campaign web`), or in a thread beside
the daemon (`campaign run --web-port`) and in the tests.

It listens on 127.0.0.1 unless told otherwise. The session cookie is Secure: browsers send
it over plain http to loopback only, so any other address needs TLS in front (a reverse proxy).
The socket is bound before uvicorn starts, so a port in use is a clear error and port 0's
choice is known at once. uvicorn's logging is left to ours; its access log prints the
request line (never a header, so never a cookie).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn
from starlette.types import ASGIApp

from scheduler.errors import ConfigurationError
from scheduler.service.databases import Database, reopen

log = logging.getLogger("campaign.web")

LOOPBACK = "127.0.0.1"
SHUTDOWN_GRACE = 5
"""Seconds requests in progress get to finish when the server stops."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` and listening (connections queue until uvicorn
    serves them); refused with a clear message when the address is taken or unknown."""
    if not is_loopback(host):
        log.warning(
            "the dashboard listens on %s, not only on this machine: put a TLS reverse proxy in "
            "front (its session cookie is Secure, so browsers send it over https only)",
            host,
        )
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}"
        ) from exc
    return sock


def _server(app: ASGIApp) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_config=None,  # keep the process's logging (the daemon's format), set nothing
        lifespan="off",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    return uvicorn.Server(config)


def serve(app: ASGIApp, host: str = LOOPBACK, port: int = 8080) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (requests in progress finish).

    The signals are blocked in every thread and taken here with ``sigtimedwait``, not by
    uvicorn's handlers, which raise the signal again once stopped (a traceback for Ctrl-C)."""
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)  # before the server's thread inherits it
    try:
        thread, bound, stop = start_in_thread(app, host, port)
        _announce(host, bound)
        while thread.is_alive():
            received = signal.sigtimedwait(signals, 1.0)
            if received is not None:
                log.info("received %s: stopping", signal.Signals(received.si_signo).name)
                break
        else:
            raise ConfigurationError("the dashboard stopped by itself: its log says why")
        stop()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)


def _announce(host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    log.info("dashboard on http://%s:%d/", shown, port)


def start_in_thread(
    app: ASGIApp, host: str = LOOPBACK, port: int = 0
) -> tuple[threading.Thread, int, Callable[[], None]]:
    """Serve in a thread of this process: the thread, the port it listens on (``port`` 0
    takes a free one) and the function that stops it (waiting for requests in progress)."""
    sock = listen(host, port)
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="campaign-web", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join()
        sock.close()

    return thread, sock.getsockname()[1], stop


@contextlib.contextmanager
def beside_daemon(database: Database, *, host: str, port: int) -> Iterator[int]:
    """The dashboard in the daemon's process, in its own thread with its own connection pool
    (a page never makes the daemon wait for a connection); stopped once the daemon has."""
    from scheduler.web.app import create_app

    own = reopen(database)
    try:
        _thread, bound, stop = start_in_thread(create_app(own), host, port)
        _announce(host, bound)
        try:
            yield bound
        finally:
            stop()
    finally:
        own.close()
