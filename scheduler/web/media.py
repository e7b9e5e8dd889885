"""``/media/{sha256}``: an image the store keeps (a post's picture, for the cards), by the
SHA-256 of its bytes. Never sniffed as anything but its stored type; kept by the browser of the
user only, never by a shared cache."""

from __future__ import annotations

import re

from starlette.responses import Response

from scheduler.service import dashboard
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit
from scheduler.web.errors import PageNotFound

_SHA256 = re.compile(r"[0-9a-f]{64}")
CACHE_CONTROL = "private, max-age=3600"
"""An image never changes under its hash: a user's browser may keep it for an hour."""
NO_IMAGE = "There is no image at this address."


@require(Permission.VIEW)
def media(visit: Visit) -> Response:
    sha256 = str(visit.request.path_params["sha256"])
    if not _SHA256.fullmatch(sha256):
        raise PageNotFound(NO_IMAGE)
    found = dashboard.media_bytes(visit.database, sha256)
    if found is None:
        raise PageNotFound(NO_IMAGE)
    mime, body = found
    return Response(
        body,
        media_type=mime,
        headers={"Cache-Control": CACHE_CONTROL},  # nosniff: on every response (app.py)
    )
