"""What each platform accepts, as data.

The core reads these figures to validate and preview a campaign without importing any platform
SDK; the adapter classes carry the same objects as their ``capabilities`` attribute. Keeping
limits here, rather than as ``if platform == ...`` branches in the core, means a new platform
is a new entry, not an edit across the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    X = "x"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"


class LengthRule(StrEnum):
    """How a platform counts the length of a post."""

    TWITTER_WEIGHTED = "twitter-weighted"
    """twitter-text v3: weighted code points, URLs as 23, CJK double, emoji sequences as 2."""
    GRAPHEMES_URL_23 = "graphemes-url-23"
    """Mastodon: user-perceived characters, every URL as 23."""
    GRAPHEMES = "graphemes"
    """Bluesky: user-perceived characters, URLs counted in full."""


class ContentWarningStyle(StrEnum):
    NATIVE = "native"
    """The platform has a content-warning field (Mastodon's spoiler text)."""
    PREPENDED = "prepended"
    """No such field: the warning is written as the first line of the post."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    platform: Platform
    label: str
    max_length: int
    length_rule: LengthRule
    max_images: int
    max_image_bytes: int
    image_types: frozenset[str]
    max_alt_text: int
    content_warning: ContentWarningStyle
    reply_controls: bool
    visibility: bool
    post_url: str
    """Pattern for a post's public address; ``{handle}`` and ``{id}`` are filled in."""
    max_bytes: int | None = None
    """UTF-8 bytes the text may take, where the platform caps those as well as ``max_length``
    (Bluesky: the ``app.bsky.feed.post`` lexicon's ``maxLength``). Checked with the length by
    ``adapters.textlength.too_long``."""


IMAGE_TYPES_COMMON = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

X = Capabilities(
    platform=Platform.X,
    label="X",
    max_length=280,
    length_rule=LengthRule.TWITTER_WEIGHTED,
    max_images=4,
    max_image_bytes=5 * 1024 * 1024,
    image_types=IMAGE_TYPES_COMMON,
    max_alt_text=1000,
    content_warning=ContentWarningStyle.PREPENDED,
    reply_controls=True,
    visibility=False,
    post_url="https://x.com/{handle}/status/{id}",
)

MASTODON = Capabilities(
    platform=Platform.MASTODON,
    label="Mastodon",
    max_length=500,
    length_rule=LengthRule.GRAPHEMES_URL_23,
    max_images=4,
    max_image_bytes=16 * 1024 * 1024,
    image_types=IMAGE_TYPES_COMMON,
    max_alt_text=1500,
    content_warning=ContentWarningStyle.NATIVE,
    reply_controls=False,
    visibility=True,
    post_url="{instance}/@{handle}/{id}",
)

BLUESKY = Capabilities(
    platform=Platform.BLUESKY,
    label="Bluesky",
    max_length=300,
    length_rule=LengthRule.GRAPHEMES,
    max_images=4,
    max_image_bytes=1_000_000,
    image_types=frozenset({"image/png", "image/jpeg", "image/webp"}),
    max_alt_text=2000,
    content_warning=ContentWarningStyle.PREPENDED,
    reply_controls=True,
    visibility=False,
    post_url="https://bsky.app/profile/{handle}/post/{id}",
    max_bytes=3000,
)

CAPABILITIES: dict[Platform, Capabilities] = {c.platform: c for c in (X, MASTODON, BLUESKY)}
