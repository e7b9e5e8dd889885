"""``/static/{name}``: a file of ``scheduler/views/static``, by its plain name only.

The name must be one path segment of known type; it is looked up among the folder's files,
never joined onto a path, so ``..``, slashes (plain or encoded) and anything else outside the
folder are a 404 whatever their spelling.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
CACHE_CONTROL = "public, max-age=300, must-revalidate"
"""Names carry no version, so a browser keeps a file for minutes, then asks again (a 304
when the ETag still matches)."""


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


@cache
def _available() -> frozenset[str]:
    folder = files("scheduler.views").joinpath("static")
    return frozenset(entry.name for entry in folder.iterdir() if entry.is_file())


@cache
def static_file(name: str) -> StaticFile | None:
    """The file ``name`` of views/static, or None if there is no such file of a served type."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if not _NAME.fullmatch(name) or suffix not in CONTENT_TYPES or name not in _available():
        return None
    body = files("scheduler.views").joinpath("static", name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return StaticFile(body, CONTENT_TYPES[suffix], etag)


async def serve_static(request: Request) -> Response:
    found = static_file(request.path_params["name"])
    if found is None:
        raise HTTPException(404)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": found.etag}
    if found.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.content_type, headers=headers)
