"""The person at `campaign auth`'s prompts: lines typed one per read, each computed when the
prompt asks for it (a PIN or a code is read off the fake's browser page only once the command
has asked for it, as a person would)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests
from fakes import FakeMastodon, FakeX

from adapters.mastodon import OUT_OF_BAND, SCOPES

Line = str | Callable[[], str]


class _Keyboard(io.RawIOBase):
    def __init__(self, lines: tuple[Line, ...]) -> None:
        self.lines = list(lines)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.lines:
            return 0
        line = self.lines.pop(0)
        data = ((line() if callable(line) else line) + "\n").encode()
        buffer[: len(data)] = data
        return len(data)


def typed(*lines: Line) -> io.BufferedReader:
    return io.BufferedReader(_Keyboard(lines))


def x_pin(fake: FakeX) -> Callable[[], str]:
    """Open the authorize page of the request token just issued, and read the PIN off it."""

    def read() -> str:
        token = list(fake.request_tokens)[-1]
        page = requests.get(f"{fake.url}/oauth/authorize?oauth_token={token}", timeout=5)
        found = re.search(r'id="oauth_pin"><kbd><code>(\d+)</code>', page.text)
        assert found, page.text
        return found.group(1)

    return read


def mastodon_code(fake: FakeMastodon) -> Callable[[], str]:
    """Open the authorize page for the app just registered, and read the code off it."""

    def read() -> str:
        query = {
            "client_id": list(fake.apps)[-1],
            "response_type": "code",
            "redirect_uri": OUT_OF_BAND,
            "scope": " ".join(SCOPES),
        }
        page = requests.get(f"{fake.url}/oauth/authorize?{urlencode(query)}", timeout=5)
        found = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    return read
