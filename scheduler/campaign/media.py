"""Image files referenced by a campaign: where they are, what they are, how big."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from scheduler.problems import quoted

_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


class MediaError(ValueError):
    """The file cannot be used: missing, outside the campaign folder, or not an image."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    relative: str
    """Path as written in the campaign file, relative to its folder."""
    path: Path
    mime: str
    size: int
    width: int
    height: int
    sha256: str


class MediaCatalog:
    """Inspects each image once, however many deliveries carry it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()
        self._seen: dict[str, MediaFile | MediaError] = {}

    def get(self, relative: str) -> MediaFile:
        if relative not in self._seen:
            try:
                self._seen[relative] = self._inspect(relative)
            except MediaError as exc:
                self._seen[relative] = exc
        found = self._seen[relative]
        if isinstance(found, MediaError):
            raise found
        return found

    def _inspect(self, relative: str) -> MediaFile:
        # Whether a path stays in the campaign's folder is decided on the path as written, the
        # same way on both sides: 'media/card.png' is inside even when 'media' is a link to a
        # shared drive (a team's choice, made by whoever set up the folder), while '../x' or
        # '/etc/x' never is (the file's author cannot reach beyond its folder).
        written = os.path.normpath(relative.replace("\\", "/"))
        if os.path.isabs(written) or written == ".." or written.startswith("../"):
            raise MediaError(
                f"{quoted(relative, limit=80)} is outside the campaign's folder {self.folder}"
            )
        path = self.folder / written
        where = _where(self.folder, written)
        try:
            mode = path.stat().st_mode
            if not stat.S_ISREG(mode):
                kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
                raise MediaError(f"{quoted(relative, limit=80)} is {kind}{where}")
            with path.open("rb") as stream:
                data = stream.read(MAX_IMAGE_BYTES + 1)
        except FileNotFoundError as exc:
            raise MediaError(
                f"{quoted(relative, limit=80)} does not exist in {self.folder}{where}"
            ) from exc
        except OSError as exc:  # permission denied, a name too long, a loop of links...
            reason = (exc.strerror or type(exc).__name__).lower()
            raise MediaError(
                f"{quoted(relative, limit=80)} cannot be read: {reason}{where}"
            ) from exc
        if len(data) > MAX_IMAGE_BYTES:
            raise MediaError(
                f"{quoted(relative, limit=80)} is larger than {MAX_IMAGE_BYTES // 2**20} MB"
            )
        try:
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format or "", image.size
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise MediaError(
                f"{quoted(relative, limit=80)} is not an image that can be read"
            ) from exc
        if kind not in _MIME:
            raise MediaError(
                f"{quoted(relative, limit=80)} is a {kind} image; use PNG, JPEG, GIF or WebP"
            )
        return MediaFile(
            relative, path, _MIME[kind], len(data), width, height, hashlib.sha256(data).hexdigest()
        )


MAX_IMAGE_BYTES = 64 * 2**20
"""Read at most this much of an image: four times the largest any platform takes (16 MB), so
an endless device or a huge file is refused rather than read into memory."""


def _where(folder: Path, written: str) -> str:
    """' (media is a link to /shared/cards)' when a folder or the file on the way is a link."""
    current = folder
    for part in Path(written).parts:
        current = current / part
        try:
            if current.is_symlink():
                target = current.resolve()
                return f" ({current.relative_to(folder)} is a link to {target})"
        except (OSError, RuntimeError):
            return ""
    return ""
