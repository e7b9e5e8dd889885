"""A fake alert endpoint: what apprise's ``json://`` and ``jsons://`` URLs post to.

Every POST is kept (``fake.messages``: title, message, type) and answered 200, unless a fault
says otherwise (``fake.fail(500)``). ``fake.apprise_url()`` is the URL to put in the settings::

    with FakeAlerts() as fake:
        settings = Settings(alerts=AlertSettings(urls=[fake.apprise_url()]))
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .server import FakeServer, Request, Response, route


class FakeAlerts(FakeServer):
    name = "alerts"

    def apprise_url(self, path: str = "/alerts") -> str:
        return f"json://{urlsplit(self.url).netloc}{path}"

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of every POST received (those answered with a fault included)."""
        with self.lock:
            return [request.json() for request in self.requests if request.method == "POST"]

    @route("POST", r"/.*")
    def receive(self, request: Request) -> Response:
        return Response(200, {"ok": True})
