"""The campaign file, as typed models.

These models are the single description of `campaigns.yaml`: loading validates against them,
`campaign schema` exports them as JSON Schema, and docs/campaign-format.md documents them.
Shape and types live here; rules that span several fields (references, time zones, lengths)
live in :mod:`scheduler.campaign.checks`, where they can name the exact line at fault.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from adapters.capabilities import Platform

FORMAT_VERSION = 1

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
DURATION_PATTERN = r"^\s*\d+\s*(s|m|h|d)\s*$"

_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _matches(pattern: str, expected: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"expected {expected}")
        return value

    return AfterValidator(check)


MAX_DURATION = timedelta(days=366)
"""The longest grace or spacing: longer means nothing in a campaign, and the store keeps
seconds in a 32-bit column."""


def parse_duration(value: object) -> timedelta:
    """Read '90s', '15m', '2h' or '1d' (a bare number is minutes), from 0 to MAX_DURATION."""
    if isinstance(value, timedelta):
        return value
    digits, unit = "", ""
    if isinstance(value, int) and not isinstance(value, bool):
        digits, unit = str(value), "minutes"
    elif isinstance(value, str):
        match = re.match(r"^\s*(\d+)\s*(s|m|h|d)\s*$", value)
        if match:
            digits, unit = match.group(1), _DURATION_UNITS[match.group(2)]
    if not digits:
        raise ValueError("expected a duration such as '90s', '15m', '2h' or '1d'")
    # Compared before timedelta() sees it: 99999999999d overflows, and -5 would run backwards.
    # In whole seconds, never through timedelta: 999999999999d is past what timedelta holds.
    seconds = timedelta(**{unit: 1}) // timedelta(seconds=1)
    if (
        digits.startswith("-")
        or len(digits) > 12
        or int(digits) * seconds > MAX_DURATION // timedelta(seconds=1)
    ):
        raise ValueError("expected a duration from 0 to 366 days, such as '2h' or '1d'")
    return timedelta(**{unit: int(digits)})


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, in the largest whole unit: 1800 s -> '30m'."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Id = Annotated[
    str,
    _matches(ID_PATTERN, "lower-case letters, digits, '-' or '_' (at most 64)"),
    WithJsonSchema({"type": "string", "pattern": ID_PATTERN}),
]
Clock = Annotated[
    str,
    _matches(CLOCK_PATTERN, "a 24-hour local time such as '09:30'"),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN}),
]
Language = Annotated[
    str,
    _matches(LANGUAGE_PATTERN, "a language code such as 'en', 'fr', 'nl' or 'pt-BR'"),
    WithJsonSchema({"type": "string", "pattern": LANGUAGE_PATTERN}),
]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda value: format_duration(value), return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN}),
]
_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")


def _not_a_number(expected: str) -> BeforeValidator:
    """pydantic reads a number as seconds since 1970; in a campaign file it is a mistake."""

    def check(value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"expected {expected}, not a number")
        if isinstance(value, str) and _NUMBER.match(value):
            raise ValueError(f"expected {expected}, not a number")
        return value

    return BeforeValidator(check)


def _not_true_or_false(value: object) -> object:
    # pydantic reads true as 1: 'day: true' would quietly mean day 1.
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true or false")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_true_or_false)]
Date = Annotated[dt.date, _not_a_number("a date such as 2026-11-25")]
Instant = Annotated[
    dt.datetime,
    _not_a_number("a date and time with its UTC offset, such as 2026-11-25T12:00:00Z"),
]


def _not_blank(value: str) -> str:
    # Spaces alone are as empty as nothing: an alt text of spaces reads out nothing.
    if value and not value.strip():
        raise ValueError("expected some text (it holds only spaces)")
    return value


NonEmptyText = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]
# At least one language: an empty mapping ('alt: {}') has nothing to post or read out.
LocalizedText = Annotated[dict[Language, NonEmptyText], Field(min_length=1)]


class FileModel(BaseModel):
    """Base for every section: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class LanguageFallback(StrEnum):
    """What to do when a post has none of an embassy's languages.

    Falling back to the embassy's own next language is always allowed and listed as a notice.
    """

    DEFAULT_LANGUAGE = "default-language"
    """Post in the campaign's default language; reported as a warning."""
    SKIP = "skip"
    """Leave the embassy out of that post; reported as a warning."""
    ERROR = "error"
    """A missing translation is an error."""


class GapPolicy(StrEnum):
    SHIFT_FORWARD = "shift-forward"
    """A local time skipped by a clock change moves forward by the length of the gap."""
    ERROR = "error"


class FoldPolicy(StrEnum):
    EARLIER = "earlier"
    """A local time that happens twice is taken at its first occurrence."""
    LATER = "later"
    ERROR = "error"


class Visibility(StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class Replies(StrEnum):
    EVERYONE = "everyone"
    FOLLOWING = "following"
    """Only accounts the embassy follows may reply."""
    MENTIONED = "mentioned"
    """Only accounts mentioned in the post may reply."""


class Window(FileModel):
    start: Date = Field(description="First day of the campaign (its day 1).")
    end: Date = Field(description="Last day of the campaign, inclusive.")


class LatePolicy(FileModel):
    grace: Duration = Field(
        default=timedelta(minutes=30),
        json_schema_extra={"default": "30m"},
        description="How late a post may still go out, e.g. after downtime. Later ones are "
        "reported as missed.",
    )
    spacing: Duration = Field(
        default=timedelta(minutes=2),
        json_schema_extra={"default": "2m"},
        description="Minimum time between two posts on one account when catching up a backlog.",
    )


class ApprovalPolicy(FileModel):
    required: bool = Field(default=False, description="Posts go out only once approved.")
    two_person_rule: bool = Field(
        default=True, description="The approver must be someone other than the author."
    )


class DstPolicy(FileModel):
    gap: GapPolicy = GapPolicy.SHIFT_FORWARD
    fold: FoldPolicy = FoldPolicy.EARLIER


class Policies(FileModel):
    language_fallback: LanguageFallback = LanguageFallback.DEFAULT_LANGUAGE
    late: LatePolicy = LatePolicy()
    approval: ApprovalPolicy = ApprovalPolicy()
    clock_changes: DstPolicy = DstPolicy()


class CampaignSection(FileModel):
    id: Id
    name: NonEmptyText
    description: str | None = None
    window: Window
    posting_times: dict[Id, Clock] = Field(
        default_factory=lambda: {"morning": "09:00"},
        description="Named local posting times. A post without 'time' uses the first one.",
    )
    hashtags: list[NonEmptyText] = Field(
        default_factory=list, description="Added to every post unless it sets its own."
    )
    default_language: Language = "en"
    policies: Policies = Policies()


class XAccount(FileModel):
    handle: NonEmptyText = Field(description="The account's @handle, for previews and links.")
    credentials: NonEmptyText = Field(
        description="Name under which the account's secrets are stored; never a secret itself."
    )


class MastodonAccount(FileModel):
    handle: NonEmptyText
    instance: NonEmptyText = Field(description="The server's address, e.g. https://mastodon.social")
    credentials: NonEmptyText
    max_characters: WholeNumber = Field(
        default=500, ge=1, le=100_000, description="The instance's post length limit."
    )


class BlueskyAccount(FileModel):
    handle: NonEmptyText = Field(description="e.g. belgiumusa.bsky.social")
    credentials: NonEmptyText


Account = XAccount | MastodonAccount | BlueskyAccount


class Accounts(FileModel):
    x: XAccount | None = None
    mastodon: MastodonAccount | None = None
    bluesky: BlueskyAccount | None = None

    def by_platform(self) -> dict[Platform, Account]:
        found = {
            Platform.X: self.x,
            Platform.MASTODON: self.mastodon,
            Platform.BLUESKY: self.bluesky,
        }
        return {platform: account for platform, account in found.items() if account is not None}


class Embassy(FileModel):
    id: Id
    name: NonEmptyText = Field(description="Display name, e.g. 'Embassy of Belgium in Japan'.")
    country: NonEmptyText
    city: NonEmptyText | None = None
    region: Id | None = None
    tags: list[Id] = Field(default_factory=list)
    timezone: NonEmptyText = Field(description="IANA time zone, e.g. 'Asia/Tokyo'.")
    languages: list[Language] = Field(
        min_length=1, description="Languages it posts in, most preferred first."
    )
    posting_times: dict[Id, Clock] | None = Field(
        default=None, description="Overrides the campaign's posting times for this embassy."
    )
    variables: dict[Id, str] = Field(
        default_factory=dict, description="Extra values for {placeholders} in texts."
    )
    accounts: Accounts


class Image(FileModel):
    file: NonEmptyText = Field(description="Path relative to the campaign file's folder.")
    alt: LocalizedText = Field(description="Alt text per language, read by screen readers.")


class Part(FileModel):
    """One post of a thread."""

    text: LocalizedText
    variants: dict[Platform, LocalizedText] = Field(
        default_factory=dict, description="Platform-specific texts that replace 'text' there."
    )
    images: list[Image] = Field(default_factory=list)


class Targets(FileModel):
    embassies: list[Id] = Field(default_factory=list)
    regions: list[Id] = Field(default_factory=list)
    tags: list[Id] = Field(default_factory=list)
    platforms: list[Platform] = Field(default_factory=list)
    exclude: list[Id] = Field(default_factory=list, description="Embassy ids left out.")

    @property
    def filters_embassies(self) -> bool:
        return bool(self.embassies or self.regions or self.tags)


class Post(FileModel):
    id: Id
    # ge before the validator: the schema then says "minimum", which editors understand
    day: Annotated[int, Field(ge=1), BeforeValidator(_not_true_or_false)] | None = Field(
        default=None, description="Day of the campaign; day 1 is start."
    )
    date: Date | None = None
    time: NonEmptyText | None = Field(
        default=None, description="A local time ('18:30') or the name of a posting time."
    )
    at: Instant | None = Field(
        default=None,
        description="One instant for every embassy, with its UTC offset: '2026-11-25T12:00:00Z'.",
    )
    text: LocalizedText | None = None
    variants: dict[Platform, LocalizedText] = Field(default_factory=dict)
    images: list[Image] = Field(default_factory=list)
    thread: list[Part] | None = Field(default=None, min_length=2)
    hashtags: list[NonEmptyText] | None = None
    content_warning: LocalizedText | None = None
    visibility: Visibility = Visibility.PUBLIC
    replies: Replies = Replies.EVERYONE
    late_grace: Duration | None = None
    targets: Targets = Targets()

    def parts(self) -> list[Part]:
        """The post as a list of parts; a single post is a thread of one."""
        if self.thread is not None:
            return list(self.thread)
        return [Part(text=self.text or {}, variants=self.variants, images=self.images)]

    def part_path(self, index: int) -> tuple[str | int, ...]:
        return ("thread", index) if self.thread is not None else ()


class CampaignFile(FileModel):
    schema_ref: str | None = Field(default=None, alias="$schema")
    version: WholeNumber = Field(default=FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    campaign: CampaignSection
    embassies: list[Embassy] = Field(min_length=1)
    posts: list[Post] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    schema = CampaignFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Campaign file (campaigns.yaml)"
    return schema
