"""Small, valid campaign files for tests that go through the real loader, checks and planner.

Plain functions rather than fixtures, so any test module can import them. ``write_campaign``
writes a campaign with three embassies in different time zones (Tokyo, New York, Paris) and
one post; keyword arguments replace the posts, the embassies or any field of the ``campaign``
section. The dictionaries are the file's own shape, so a test can edit one and write it again.

Import it as ``from campaign_builders import ...``: tests/ has no ``__init__.py``, so pytest puts
the folder itself on ``sys.path``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image
from ruamel.yaml import YAML

Data = dict[str, Any]

WINDOW_START = "2026-11-25"
WINDOW_END = "2026-12-10"
PLATFORMS = ("x", "mastodon", "bluesky")
IMAGE_FILE = "media/card.png"

DEFAULT_TEXT = {
    "en": "{embassy} stands with the campaign.",
    "fr": "{embassy} soutient la campagne.",
    "ja": "{embassy}はキャンペーンを支持します。",
}


def accounts(
    embassy_id: str, platforms: Iterable[str] = PLATFORMS, *, max_characters: int | None = None
) -> Data:
    """One account per platform, with handles and credential names derived from the id."""
    name = embassy_id.replace("-", "_")
    found: Data = {}
    for platform in platforms:
        credentials = f"{embassy_id}-{platform}"
        if platform == "x":
            found["x"] = {"handle": f"@{name}", "credentials": credentials}
        elif platform == "mastodon":
            found["mastodon"] = {
                "handle": f"@{name}",
                "instance": "https://mastodon.example",
                "credentials": credentials,
            }
            if max_characters is not None:
                found["mastodon"]["max_characters"] = max_characters
        elif platform == "bluesky":
            found["bluesky"] = {"handle": f"{embassy_id}.bsky.social", "credentials": credentials}
        else:
            raise ValueError(f"unknown platform {platform!r}")
    return found


def embassy(
    embassy_id: str,
    timezone: str,
    languages: Iterable[str] = ("en",),
    *,
    platforms: Iterable[str] = PLATFORMS,
    **fields: Any,
) -> Data:
    """An embassy entry; ``fields`` adds or replaces keys such as region, tags or variables."""
    city = embassy_id.removeprefix("be-").replace("-", " ").title()
    entry: Data = {
        "id": embassy_id,
        "name": f"Embassy of Belgium in {city}",
        "country": "Belgium",
        "city": city,
        "timezone": timezone,
        "languages": list(languages),
        "accounts": accounts(embassy_id, platforms),
    }
    entry.update(fields)
    return entry


def default_embassies() -> list[Data]:
    """Tokyo (3 accounts), New York (2) and Paris (2): 7 accounts in three time zones."""
    return [
        embassy("be-tokyo", "Asia/Tokyo", ["ja", "en"], region="asia", tags=["g7"]),
        embassy(
            "be-newyork",
            "America/New_York",
            ["en"],
            platforms=("x", "mastodon"),
            region="americas",
            tags=["g7", "un"],
            name="Consulate General of Belgium in New York",
            city="New York",
        ),
        embassy(
            "be-paris",
            "Europe/Paris",
            ["fr", "en"],
            platforms=("mastodon", "bluesky"),
            region="europe",
        ),
    ]


def post(post_id: str = "launch", **fields: Any) -> Data:
    """A single post on day 1 in English, French and Japanese, unless ``fields`` say otherwise.

    Giving 'date' or 'at' drops the default 'day'; giving 'thread' drops the default 'text'. The
    default text of any post but 'launch' ends with its id: X refuses one account posting the
    same text twice, and the validator says so.
    """
    entry: Data = {"id": post_id}
    if not {"day", "date", "at"} & fields.keys():
        entry["day"] = 1
    if not {"text", "thread"} & fields.keys():
        suffix = "" if post_id == "launch" else f" ({post_id})"
        entry["text"] = {language: text + suffix for language, text in DEFAULT_TEXT.items()}
    entry.update(fields)
    return entry


def image(file: str = IMAGE_FILE, alt: dict[str, str] | None = None) -> Data:
    return {"file": file, "alt": alt or {"en": "An orange banner.", "fr": "Une banniere orange."}}


def campaign_section(**fields: Any) -> Data:
    section: Data = {
        "id": "orange-2026",
        "name": "Orange the World 2026",
        "window": {"start": WINDOW_START, "end": WINDOW_END},
        "posting_times": {"morning": "09:00", "evening": "18:30"},
        "default_language": "en",
    }
    section.update(fields)
    return section


def campaign_data(
    *,
    posts: list[Data] | None = None,
    embassies: list[Data] | None = None,
    **campaign_fields: Any,
) -> Data:
    """The whole file as a dictionary; ``campaign_fields`` replace keys of its campaign section."""
    return {
        "version": 1,
        "campaign": campaign_section(**campaign_fields),
        "embassies": copy.deepcopy(embassies) if embassies is not None else default_embassies(),
        "posts": copy.deepcopy(posts) if posts is not None else [post()],
    }


def write_yaml(path: Path, data: Data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="rt")  # unlike the safe dumper, keeps keys in order: posting_times' first
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    with path.open("w", encoding="utf-8") as stream:
        yaml.dump(data, stream)
    return path


def write_png(
    path: Path, *, size: tuple[int, int] = (16, 9), color: tuple[int, int, int] = (255, 120, 0)
) -> Path:
    """A small, valid PNG; the same arguments always give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def write_campaign(
    folder: Path,
    *,
    posts: list[Data] | None = None,
    embassies: list[Data] | None = None,
    filename: str = "campaign.yaml",
    **campaign_fields: Any,
) -> Path:
    """Write a valid campaign file (and ``media/card.png`` beside it); return the file's path."""
    write_png(folder / IMAGE_FILE)
    data = campaign_data(posts=posts, embassies=embassies, **campaign_fields)
    return write_yaml(folder / filename, data)
