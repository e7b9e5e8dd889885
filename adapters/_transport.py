"""Whether a failed request may have reached the platform: the line between a safe retry and an
unknown outcome. Shared by the adapters' error maps; knows requests/urllib3 and httpx errors.

A request is known *not* to have been sent only when the connection was never made (refused,
name not resolved, connect timeout). Anything later (a read timeout, a connection dropped while
waiting for the answer) may have reached the platform.
"""

from __future__ import annotations

from collections.abc import Iterator

from adapters.errors import NetworkError, OutcomeUnknown, PublishError, Timeout

_NOT_CONNECTED = frozenset(
    {
        "NewConnectionError",  # urllib3: refused, unreachable
        "NameResolutionError",  # urllib3
        "ConnectTimeoutError",  # urllib3
        "ConnectTimeout",  # requests, httpx
        "ConnectError",  # httpx
        "ConnectionRefusedError",
    }
)
_TIMEOUTS = frozenset(
    {
        "ReadTimeout",
        "ReadTimeoutError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "WriteTimeout",
        "PoolTimeout",
        "TimeoutError",
        "timeout",
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
    return any(type(item).__name__ in _NOT_CONNECTED for item in causes(exc))


def timed_out(exc: BaseException) -> bool:
    return any(type(item).__name__ in _TIMEOUTS for item in causes(exc))


def network_error(where: str, exc: BaseException, *, creates: bool) -> PublishError:
    """The error for a request that got no answer; ``creates``: it would create a post."""
    kind = Timeout if timed_out(exc) else NetworkError
    if never_sent(exc):
        return kind(f"{where}: could not connect")
    if creates:
        return OutcomeUnknown(f"{where}: the request was sent but no answer came back")
    return kind(f"{where}: no answer")
