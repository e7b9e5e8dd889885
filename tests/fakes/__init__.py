"""Fake platform servers on 127.0.0.1, for tests, benchmarks and the reliability harness.

Start one without pytest::

    from tests.fakes import FakeMastodon
    with FakeMastodon() as fake:
        ...  # fake.url, fake.posted, fake.fail(503), fake.commit_then_drop(), ...
"""

from .bluesky import FakeBluesky
from .mastodon import FakeMastodon
from .server import FakeServer, Fault, Request, Response
from .x import FakeX

__all__ = ["FakeBluesky", "FakeMastodon", "FakeServer", "FakeX", "Fault", "Request", "Response"]
