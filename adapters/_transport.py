"""Whether a failed request may have reached the platform: the line between a safe retry and an
unknown outcome. Shared by the adapters' error maps; knows requests/urllib3 and httpx errors (the
SDKs' transports), so only the adapter modules import it: ``import adapters`` imports none of
them.

A request is known *not* to have been sent only when the connection was never made (refused,
name not resolved, connect timeout). Anything later (a read timeout, a connection dropped while
waiting for the answer) may have reached the platform.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import requests
from urllib3 import exceptions as urllib3

from adapters.errors import NetworkError, OutcomeUnknown, PublishError, Timeout

# Matched by exact type, not isinstance: urllib3 derives NewConnectionError (a refused or
# unreachable host) from ConnectTimeoutError, so a subclass test would call every refused
# connection a timeout.
_NOT_CONNECTED: frozenset[type[BaseException]] = frozenset(
    {
        urllib3.NewConnectionError,  # refused, unreachable
        urllib3.NameResolutionError,
        urllib3.ConnectTimeoutError,
        requests.ConnectTimeout,
        httpx.ConnectTimeout,
        httpx.ConnectError,
        ConnectionRefusedError,
    }
)
_TIMEOUTS: frozenset[type[BaseException]] = frozenset(
    {
        requests.ReadTimeout,
        requests.ConnectTimeout,
        urllib3.ReadTimeoutError,
        urllib3.ConnectTimeoutError,
        urllib3.TimeoutError,
        httpx.ReadTimeout,
        httpx.ConnectTimeout,
        httpx.WriteTimeout,
        httpx.PoolTimeout,
        TimeoutError,  # socket.timeout too, its alias
    }
)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, and exceptions held in its args."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            *current.args,
        ]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def never_sent(exc: BaseException) -> bool:
    return any(type(item) in _NOT_CONNECTED for item in causes(exc))


def timed_out(exc: BaseException) -> bool:
    return any(type(item) in _TIMEOUTS for item in causes(exc))


def network_error(where: str, exc: BaseException, *, creates: bool) -> PublishError:
    """The error for a request that got no answer; ``creates``: it would create a post."""
    kind = Timeout if timed_out(exc) else NetworkError
    if never_sent(exc):
        return kind(f"{where}: could not connect")
    if creates:
        return OutcomeUnknown(f"{where}: the request was sent but no answer came back")
    return kind(f"{where}: no answer")
