"""The operator's settings: where the database is, how to reach each platform, how the daemon
runs, where alerts go. One TOML file (``--config`` or ``CAMPAIGN_CONFIG``), every key optional.

Secrets do not go in it: platform credentials come from the secrets store (adapters.secrets), and
alert URLs that carry a token are named by a secrets entry, not written here.
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.capabilities import Platform
from scheduler.campaign.model import Duration
from scheduler.defaults import CONFIG_ENV
from scheduler.errors import ConfigurationError

BASE_URL_ENV = {
    Platform.X: "CAMPAIGN_X_API_URL",
    Platform.MASTODON: "CAMPAIGN_MASTODON_URL",
    Platform.BLUESKY: "CAMPAIGN_BLUESKY_URL",
}
"""Override where a platform is reached: a staging server, or the local fakes in tests. For
Mastodon it replaces every account's instance."""


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformSettings(_Settings):
    base_url: str | None = Field(
        default=None, description="Where the API is; by default the platform's own address."
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to connect, and to answer.")
    media_deadline: float = Field(
        default=120.0, gt=0, description="Seconds to wait for uploaded media to be processed."
    )
    max_in_flight: int | None = Field(
        default=None,
        ge=1,
        description="Calls at once to this platform, one per account at most; by default "
        "daemon.max_in_flight.",
    )
    appview: str | None = Field(
        default=None,
        description="Bluesky: the AppView that reads posts and their engagement counts "
        "(app.bsky.feed.getPosts); by default Bluesky's public one, https://public.api.bsky.app, "
        "or base_url when that is set (a staging server).",
    )


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


class DaemonSettings(_Settings):
    lease: Duration = Field(
        default=timedelta(minutes=2), description="How long a claim holds (wall-clock time)."
    )
    poll: Duration = Field(
        default=timedelta(seconds=15),
        description="Look for work written by other processes at least this often.",
    )
    max_in_flight: int = Field(
        default=16,
        ge=1,
        description="Platform calls at once, overall (each platform's own limit within it).",
    )
    retries: int = Field(default=5, ge=0, description="Tries after the first, transient errors.")
    backoff: Duration = Field(
        default=timedelta(seconds=30), description="First retry delay (wall-clock time)."
    )
    shutdown_grace: Duration = Field(
        default=timedelta(seconds=30), description="How long SIGTERM waits for calls in flight."
    )
    token_check: Duration = Field(
        default=timedelta(hours=6),
        description="Verify the credentials of accounts with posts in the next day this often.",
    )
    token_check_batch: int = Field(
        default=20,
        ge=1,
        description="Most accounts one round of token checks verifies (a round a minute).",
    )
    adapters_kept: int = Field(
        default=256,
        ge=1,
        description="Accounts whose platform client is kept between posts; the least recently "
        "used beyond this are dropped (their sessions stay on disk: no new login).",
    )
    health_port: int | None = Field(
        default=None, ge=0, le=65535, description="Serve /healthz and /metrics on 127.0.0.1."
    )
    worker_name: str | None = Field(default=None, description="Default: host name and pid.")


class AlertSettings(_Settings):
    urls: list[str] = Field(
        default_factory=list, description="apprise URLs without secrets, e.g. a local webhook."
    )
    urls_secret: str | None = Field(
        default=None,
        description="Name of a secrets entry whose field 'urls' holds more apprise URLs "
        "(one per line): mail, Matrix, Slack or Teams URLs carry tokens.",
    )
    digest: Duration = Field(
        default=timedelta(minutes=10), description="Collect alerts this long, then send one."
    )


X_COST_PER_READ = 0.005
"""USD per post read on X's pay-per-use plan ("Posts: Read, $0.005 per resource",
https://docs.x.com/x-api/getting-started/pricing, read 2026-12-02). X bills a post once per UTC
day however often it is read, so an estimate from it is an upper bound."""


class EngagementSettings(_Settings):
    daemon: bool = Field(
        default=False,
        description="Whether the daemon collects the counts on the schedule (a low-priority "
        "job, never a send slot); `campaign engagement` collects whenever it is run.",
    )
    schedule: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=1), timedelta(hours=24), timedelta(days=7)],
        description="When the daemon collects a post's counts, after it was sent.",
    )
    fresh: Duration = Field(
        default=timedelta(minutes=30),
        description="Counts asked for within this span are not asked for again (a run "
        "stopped half-way resumes where it stopped).",
    )
    x_cost_per_read: float = Field(
        default=X_COST_PER_READ,
        ge=0,
        description="USD per post read on X: X's pay-per-use price (check it in X's Developer "
        "Console, prices change).",
    )
    x_max_cost: float = Field(
        default=1.0,
        ge=0,
        description="The most one collection may spend on X, USD; over it, X is skipped with "
        "a note (the other platforms are collected). `campaign engagement --max-cost` "
        "overrides it for one run.",
    )

    @field_validator("schedule")
    @classmethod
    def _positive(cls, value: list[timedelta]) -> list[timedelta]:
        if any(span <= timedelta(0) for span in value):
            raise ValueError("expected durations after sending, such as '1h', '24h', '7d'")
        return sorted(set(value))


class Settings(_Settings):
    database: str | None = None
    secrets_file: Path | None = None
    log_format: LogFormat = LogFormat.HUMAN
    platforms: dict[Platform, PlatformSettings] = Field(default_factory=dict)
    daemon: DaemonSettings = DaemonSettings()
    alerts: AlertSettings = AlertSettings()
    engagement: EngagementSettings = EngagementSettings()

    def calls_at_once(self) -> dict[str, int]:
        """How many calls this daemon may have under way on each platform at once."""
        overall = self.daemon.max_in_flight
        return {
            str(platform): min(overall, self.platform(platform).max_in_flight or overall)
            for platform in Platform
        }

    def platform(self, platform: Platform) -> PlatformSettings:
        """The settings of ``platform``, with the base URL from the environment if it is set."""
        configured = self.platforms.get(platform, PlatformSettings())
        override = os.environ.get(BASE_URL_ENV[platform])
        return configured.model_copy(update={"base_url": override}) if override else configured


def load_settings(path: Path | None = None) -> Settings:
    """The settings file at ``path`` (or ``CAMPAIGN_CONFIG``), or the defaults when neither."""
    chosen = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if chosen is None:
        return Settings()
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{chosen}: cannot read the settings: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{chosen}: not valid TOML: {exc}") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)
        problems = "; ".join(
            f"{'.'.join(str(step) for step in error['loc'])}: {error['msg']}" for error in first
        )
        raise ConfigurationError(f"{chosen}: {problems}") from exc
