"""The tables. Alembic migrations in ``scheduler/store/migrations`` create exactly these.

Every instant is an aware UTC datetime (:class:`UTCDateTime`); where people read a time, the
embassy's IANA zone and the local wall time are stored beside it. The JSON columns (a campaign's
and a post's definition, a delivery's payload) are read and written by
``scheduler.store.documents`` only, which checks the format version each one carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduler.store.states import DeliveryState

# Stable constraint names, so that migrations can name what they alter on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC in, aware UTC out, on every database. A naive value is a bug, refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given where UTC is stored")
        utc = value.astimezone(dt.UTC)
        # SQLite has no zone-aware type: store the UTC wall time, read it back as UTC.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Id = String(64)
Key = String(255)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    definition: Mapped[dict[str, Any]]
    """The campaign section and the embassies as last synced: what queued posts are planned with."""
    source_file: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[dt.datetime | None]
    synced_by: Mapped[str | None] = mapped_column(Text)


class Embassy(Base):
    __tablename__ = "embassies"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[Any]]
    region: Mapped[str | None] = mapped_column(Id)
    tags: Mapped[list[Any]]


class Account(Base):
    """One embassy's account on one platform. The daemon keeps its limits here, shared by all."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "embassy_id", "platform"),
        # the next wakeup: an account's turn, the end of a rate limit (store/claims.py)
        Index(None, "next_post_at"),
        Index(None, "rate_limited_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    embassy_id: Mapped[str] = mapped_column(Id)
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(Text)
    credentials: Mapped[str] = mapped_column(String(64))
    """The name of a secrets entry, never a secret."""
    instance: Mapped[str | None] = mapped_column(Text)
    rate_limited_until: Mapped[dt.datetime | None]
    suspended_at: Mapped[dt.datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    last_sent_at: Mapped[dt.datetime | None]
    next_post_at: Mapped[dt.datetime | None]
    """No claim before this instant: the campaign's minimum spacing between two posts."""


class Post(Base):
    __tablename__ = "posts"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))
    """'file' for posts of the campaign file; 'queue' for posts added from the CLI or the web."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Goes up on every edit; an approval holds for one version."""
    definition: Mapped[dict[str, Any]]
    """The post as written (the campaign file's shape)."""
    definition_hash: Mapped[str] = mapped_column(String(64))
    placement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """For queued posts without a time: the slot chosen for each embassy, as local wall times."""
    author: Mapped[str] = mapped_column(Text)
    """Who wrote the current version."""
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    cancelled_at: Mapped[dt.datetime | None]


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (Index(None, "campaign_id", "post_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(Id)
    post_id: Mapped[str] = mapped_column(Id)
    version: Mapped[int] = mapped_column(Integer)
    approver: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime]


class Media(Base):
    """Image bytes, so that daemons on other hosts need no copy of the campaign folder."""

    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index(None, "state", "due_at"),
        Index(None, "state", "account_id"),  # the claim's "account busy" (store/claims.py)
        Index(None, "state", "not_before"),  # the next wakeup: the first retry to come
        Index(None, "campaign_id", "post_id"),
        # A post on a platform settles one delivery only (docs/architecture.md, "Exactly once").
        Index("uq_deliveries_account_id_remote_id", "account_id", "remote_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(Key, unique=True)
    """campaign/post/embassy/platform/part: the planner's deterministic id, campaign first."""
    campaign_id: Mapped[str] = mapped_column(Id)
    post_id: Mapped[str] = mapped_column(Id)
    post_version: Mapped[int] = mapped_column(Integer)
    embassy_id: Mapped[str] = mapped_column(Id)
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    part: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime]
    local_time: Mapped[str] = mapped_column(String(32))
    """The embassy's wall time, ISO 8601 without offset, for display."""
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]]
    """What goes out: text, media, content warning, visibility, reply controls, limits."""
    content_hash: Mapped[str] = mapped_column(String(64))
    grace_seconds: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), default=DeliveryState.SCHEDULED)
    state_since: Mapped[dt.datetime]
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Goes up whenever what goes out changes; a daemon's writes are guarded by it."""
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[dt.datetime | None]
    not_before: Mapped[dt.datetime | None]
    """Earliest next try, after a transient error or a rate limit."""
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    remote_id: Mapped[str | None] = mapped_column(Text)
    remote_url: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]
    """When we recorded it as sent, on our (campaign) clock."""
    platform_sent_at: Mapped[dt.datetime | None]
    """When the platform accepted it, on the platform's clock (``Published.published_at``, in
    campaign time during a rehearsal); None when the platform's answer carried no time."""
    error_class: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[dt.datetime | None]
    """Deleted from the platform by `campaign retract` after it was sent."""
    retracted_by: Mapped[str | None] = mapped_column(Text)
    """Who retracted it (``--as``)."""
    retraction_reason: Mapped[str | None] = mapped_column(Text)
    """Why (``campaign retract --reason``)."""
    changed_after_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    """Its post was edited after this copy went out: reported, never re-sent by itself."""

    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="delivery", order_by="Attempt.id", cascade="all, delete-orphan"
    )


class Attempt(Base):
    """One platform call. Recorded before the call, completed after it."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    remote_id: Mapped[str | None] = mapped_column(Text)
    remote_url: Mapped[str | None] = mapped_column(Text)
    error_class: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    delivery: Mapped[Delivery] = relationship(back_populates="attempts")


class Pause(Base):
    """A brake: everything that matches its scope (None = any) stops being claimed."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str | None] = mapped_column(Id)
    embassy_id: Mapped[str | None] = mapped_column(Id)
    platform: Mapped[str | None] = mapped_column(String(32))
    post_id: Mapped[str | None] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[str | None] = mapped_column(Id)
    subject: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]]


class Alert(Base):
    """Something the comms team must hear about; collected and sent as a digest."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    """failed, missed, needs_review, suspended, paused, ..."""
    campaign_id: Mapped[str | None] = mapped_column(Id)
    subject: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None]


class Worker(Base):
    """A daemon process, as seen by the others and by status."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime]
    seen_at: Mapped[dt.datetime]
    stopped_at: Mapped[dt.datetime | None]


class WebUser(Base):
    """A person who logs in to the dashboard (`campaign web`), with one role."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    """author, approver or admin (scheduler.service.users.Role)."""
    password_hash: Mapped[str] = mapped_column(Text)
    """``scrypt$n$r$p$salt$hash``, never the password."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong passwords in a row; enough of them lock the name until ``locked_until``."""
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class WebSession(Base):
    """A logged-in browser. Only the SHA-256 of its token is kept: a copy of the database
    opens no session."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class EngagementRun(Base):
    """One collection of the platforms' counts (`campaign engagement`, or the daemon's schedule):
    when, what started it, and per account what was fetched and what went wrong."""

    __tablename__ = "engagement_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(index=True)
    finished_at: Mapped[dt.datetime | None]
    trigger: Mapped[str] = mapped_column(String(16))
    """'command' (`campaign engagement`) or 'daemon' (its schedule)."""
    campaign_id: Mapped[str | None] = mapped_column(Id)
    """The campaign it was limited to; None for every campaign."""
    notes: Mapped[dict[str, Any]]
    """Per account: counts fetched, errors, X reads and cost (``documents.RunNotes``)."""


class EngagementSnapshot(Base):
    """One metric of one sent delivery as the platform gave it at one instant: the curve after
    posting is the series of these. A metric the platform does not give has no row (never 0)."""

    __tablename__ = "engagement_snapshots"
    __table_args__ = (Index(None, "delivery_id", "metric", "fetched_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    fetched_at: Mapped[dt.datetime]
    metric: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("engagement_runs.id"), index=True)


class EngagementCheck(Base):
    """When a sent delivery's counts were last asked for, whatever the answer: a post the
    platform no longer has (``gone``) or that gave no metric has no snapshot, yet is not asked
    for again within ``engagement.fresh``. One row per delivery, outside the dispatcher's
    tables."""

    __tablename__ = "engagement_checks"

    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("deliveries.id"),
        primary_key=True,
    )
    checked_at: Mapped[dt.datetime] = mapped_column(index=True)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    """The platform no longer has the post (deleted there)."""
    run_id: Mapped[int | None] = mapped_column(ForeignKey("engagement_runs.id"))
