"""The JSON documents the store keeps, typed: each is read and written here and nowhere else.

- ``campaigns.definition``, :class:`CampaignDefinition`: the campaign file as last synced,
  without its posts (what queued posts are planned and checked with).
- ``posts.definition``, :class:`PostDefinition`: one post as written, in the campaign file's shape.
- ``deliveries.payload``, :class:`DeliveryPayload`: what one delivery sends.

Each document carries the version of its shape: the campaign file's own ``version`` in a
campaign definition, ``v`` in the other two. A document without one was written before versions
were stored and reads as version 1. A version this program does not know is refused
(:class:`SchemaMismatch`), never guessed at: the document was written by a newer program.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scheduler.campaign.model import FORMAT_VERSION, CampaignFile, CampaignSection, Policies
from scheduler.campaign.model import Post as PostSpec
from scheduler.errors import SchemaMismatch
from scheduler.store.schema import Campaign, Delivery, Post

if TYPE_CHECKING:  # the planner loads twitter-text: half a second that `campaign status` spares
    from scheduler.campaign.planner import Attachment
    from scheduler.campaign.planner import Delivery as PlannedDelivery

POST_VERSION = 1
PAYLOAD_VERSION = 1
VERSION_KEY = "v"
"""Where a post definition and a delivery payload say their version (a campaign definition
uses the campaign file's own ``version``)."""

Model = TypeVar("Model", bound=BaseModel)


def _stored_version(document: Mapping[str, Any], key: str, known: int, where: str) -> int:
    """The document's version (1 when it has none), refused unless this program reads it."""
    version = document.get(key, 1)
    if type(version) is not int or version < 1:
        raise SchemaMismatch(f"{where}: {version!r} is not a format version (1 to {known})")
    if version > known:
        raise SchemaMismatch(
            f"{where}: stored in format {version}, but this program reads up to format {known}: "
            "it was written by a newer version of campaign; run that version"
        )
    return version


def _validated(model: type[Model], document: Mapping[str, Any], where: str) -> Model:
    """A document of a known version that does not fit its model was damaged, or written by a
    program that changed the shape without raising the version: refused all the same."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        place = ".".join(str(step) for step in first["loc"]) or "(top)"
        message = f"the stored document does not fit its format: {place}: {first['msg']}"
        raise SchemaMismatch(f"{where}: {message}") from None


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- campaigns.definition ---------------------------------------------------------------------


class CampaignDefinition(_Document):
    """The campaign file as last synced, without its posts.

    The campaign section is typed. The embassies are kept as written, for the loader, which
    checks them whenever a queued post is checked against them: the daemon reads the policies
    every round, and checking 2,000 embassies each time would take some 70 ms.
    """

    schema_ref: str | None = Field(default=None, alias="$schema")
    version: int = 1
    """The campaign file's format version, which is this document's version too."""
    campaign: CampaignSection
    embassies: list[dict[str, Any]]

    @classmethod
    def of(cls, campaign: Campaign) -> Self:
        return cls.from_stored(campaign.definition, f"campaign {campaign.id}")

    @classmethod
    def from_stored(cls, document: Mapping[str, Any], where: str) -> Self:
        _stored_version(document, "version", FORMAT_VERSION, where)
        return _validated(cls, document, where)

    @classmethod
    def from_spec(cls, spec: CampaignFile) -> Self:
        return cls.model_validate(spec.model_dump(mode="json", by_alias=True, exclude={"posts"}))

    def to_stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @property
    def policies(self) -> Policies:
        return self.campaign.policies

    def with_posts(self, posts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The campaign file's shape holding ``posts``, for the loader to check."""
        return {**self.to_stored(), "posts": [dict(post) for post in posts]}


# --- posts.definition -------------------------------------------------------------------------


@dataclass(frozen=True)
class PostDefinition:
    """A post as written (by a person, or dumped from the file): the fields it sets."""

    fields: Mapping[str, Any]
    version: int = POST_VERSION
    where: str = field(default="a post", compare=False)
    """Which row it was read from, for errors."""

    @classmethod
    def of(cls, post: Post) -> Self:
        return cls.from_stored(post.definition, f"post {post.campaign_id}/{post.id}")

    @classmethod
    def from_stored(cls, document: Mapping[str, Any], where: str) -> Self:
        version = _stored_version(document, VERSION_KEY, POST_VERSION, where)
        fields = {key: value for key, value in document.items() if key != VERSION_KEY}
        return cls(fields, version, where)

    @classmethod
    def from_spec(cls, post: PostSpec) -> Self:
        """A post of the campaign file, as written: the fields that differ from the defaults."""
        return cls(post.model_dump(mode="json", by_alias=True, exclude_defaults=True))

    def to_stored(self) -> dict[str, Any]:
        return {VERSION_KEY: self.version, **self.fields}

    @property
    def digest(self) -> str:
        """The fingerprint of what was written: an edit anywhere in it is a new version. The
        format version is not part of it, so that a new format alone edits no post."""
        encoded = json.dumps(self.fields, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()

    @property
    def post(self) -> PostSpec:
        return _validated(PostSpec, self.fields, self.where)


# --- deliveries.payload -----------------------------------------------------------------------


class PayloadMedia(_Document):
    sha256: str
    file: str
    """As written in the campaign file, relative to its folder."""
    mime: str
    width: int
    height: int
    alt: str
    alt_language: str

    @classmethod
    def attached(cls, media: Attachment) -> Self:
        return cls(
            sha256=media.sha256,
            file=media.file,
            mime=media.mime,
            width=media.width,
            height=media.height,
            alt=media.alt,
            alt_language=media.alt_language,
        )


class DeliveryPayload(_Document):
    """What goes out: text, media, content warning, visibility, reply controls, limits."""

    version: int = Field(default=PAYLOAD_VERSION, alias=VERSION_KEY)
    account: str
    credentials: str
    """The name of a secrets entry, never a secret."""
    instance: str | None
    text: str
    media: tuple[PayloadMedia, ...]
    content_warning: str | None
    visibility: str
    replies: str
    length: int
    limit: int
    source: str
    """Where the text came from in the campaign file, as a dotted path."""

    @classmethod
    def of(cls, row: Delivery) -> Self:
        return cls.from_stored(row.payload, f"delivery {row.key}")

    @classmethod
    def from_stored(cls, document: Mapping[str, Any], where: str) -> Self:
        _stored_version(document, VERSION_KEY, PAYLOAD_VERSION, where)
        return _validated(cls, {VERSION_KEY: 1, **document}, where)

    @classmethod
    def planned(cls, planned: PlannedDelivery) -> Self:
        return cls(
            account=planned.account,
            credentials=planned.credentials,
            instance=planned.instance,
            text=planned.text,
            media=tuple(PayloadMedia.attached(media) for media in planned.media),
            content_warning=planned.content_warning,
            visibility=str(planned.visibility),
            replies=str(planned.replies),
            length=planned.length,
            limit=planned.limit,
            source=".".join(str(step) for step in planned.source),
        )

    def to_stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @staticmethod
    def stored_from_plan(planned: PlannedDelivery) -> dict[str, Any]:
        """``planned(planned).to_stored()``, written out without building the model: sync
        stores one for each of 100,000 deliveries, and the model costs ten times as much
        (tests/test_store_documents.py holds the two equal)."""
        return {
            VERSION_KEY: PAYLOAD_VERSION,
            "account": planned.account,
            "credentials": planned.credentials,
            "instance": planned.instance,
            "text": planned.text,
            "media": [
                {
                    "sha256": media.sha256,
                    "file": media.file,
                    "mime": media.mime,
                    "width": media.width,
                    "height": media.height,
                    "alt": media.alt,
                    "alt_language": media.alt_language,
                }
                for media in planned.media
            ],
            "content_warning": planned.content_warning,
            "visibility": str(planned.visibility),
            "replies": str(planned.replies),
            "length": planned.length,
            "limit": planned.limit,
            "source": ".".join(str(step) for step in planned.source),
        }


# --- engagement_runs.notes --------------------------------------------------------------------

NOTES_VERSION = 1
ErrorKind = Literal["401", "402", "429", "other"]
"""How an account's collection failed: refused credentials, out of credits (X), rate-limited
(with its reset), or anything else (the platform down, a bad answer)."""


class CollectionError(_Document):
    kind: ErrorKind
    message: str
    """The error tree's message: it names the account and never carries a secret."""
    reset_at: dt.datetime | None = None
    """A rate limit's end, when the platform said it."""


class AccountNote(_Document):
    """One account's part of a collection."""

    account_id: int
    platform: str
    embassy_id: str
    handle: str
    asked: int = 0
    """Sent posts of the account to ask about in this run."""
    fetched: int = 0
    """Posts whose counts were written."""
    gone: int = 0
    """Posts the platform no longer has (deleted there)."""
    reads: int = 0
    """Posts asked for in calls that went out: on X, what is billed."""
    error: CollectionError | None = None
    skipped: str | None = None
    """Why nothing was asked (X over the cost cap, no price set)."""


class RunNotes(_Document):
    """What one collection did, per account, and its X cost estimate."""

    version: int = Field(default=NOTES_VERSION, alias=VERSION_KEY)
    accounts: list[AccountNote] = Field(default_factory=list)
    x_reads: int = 0
    """Posts on X to read, estimated before fetching."""
    x_cost_per_read: float | None = None
    """USD per post read, from the settings; None when not set."""
    x_cost: float | None = None
    """The estimate: ``x_reads`` x ``x_cost_per_read``; None when the price is not set."""
    x_max_cost: float | None = None
    """The cap of this run, USD."""

    @classmethod
    def from_stored(cls, document: Mapping[str, Any], where: str) -> Self:
        _stored_version(document, VERSION_KEY, NOTES_VERSION, where)
        return _validated(cls, document, where)

    def to_stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    @property
    def errors(self) -> list[AccountNote]:
        """The accounts whose collection failed or was skipped."""
        return [note for note in self.accounts if note.error is not None or note.skipped]
