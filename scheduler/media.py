"""Image files referenced by a campaign: where they are, what they are, how big."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

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
        self.folder = folder.resolve()
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
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder):
            raise MediaError(f"'{relative}' is outside the campaign's folder {self.folder}")
        if not path.is_file():
            raise MediaError(f"'{relative}' does not exist in {self.folder}")
        data = path.read_bytes()
        try:
            with Image.open(path) as image:
                kind, (width, height) = image.format or "", image.size
        except (UnidentifiedImageError, OSError) as exc:
            raise MediaError(f"'{relative}' is not an image that can be read") from exc
        if kind not in _MIME:
            raise MediaError(f"'{relative}' is a {kind} image; use PNG, JPEG, GIF or WebP")
        return MediaFile(
            relative, path, _MIME[kind], len(data), width, height, hashlib.sha256(data).hexdigest()
        )
