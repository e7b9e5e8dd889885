"""A dry-run preview of a plan: exactly what will go out, where and when, in several formats.

``select`` filters a plan, ``summarize_plan`` counts it, ``delivery_record`` is the one flat shape
that the JSON, CSV and HTML outputs all share.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapters.capabilities import CAPABILITIES, Platform
from adapters.textlength import has_url
from scheduler.campaign.planner import Delivery, Plan
from scheduler.campaign.sourcemap import SourceMap
from scheduler.campaign.timing import utc_offset_label, zone
from scheduler.problems import FieldPath, Problem, Severity

DEFAULT_X_PRICE_PER_POST = Decimal("0.015")
DEFAULT_X_PRICE_PER_URL_POST = Decimal("0.20")


@dataclass(frozen=True)
class Filters:
    embassies: tuple[str, ...] = ()
    platforms: tuple[Platform, ...] = ()
    days: tuple[dt.date, ...] = ()
    """Local dates at the embassy."""
    languages: tuple[str, ...] = ()

    def keep(self, delivery: Delivery) -> bool:
        return (
            (not self.embassies or delivery.embassy_id in self.embassies)
            and (not self.platforms or delivery.platform in self.platforms)
            and (not self.days or delivery.local_time.date() in self.days)
            and (not self.languages or delivery.language in self.languages)
        )


@dataclass(frozen=True)
class XPricing:
    """X bills each post created, more when it carries a URL. Figures in USD."""

    per_post: Decimal = DEFAULT_X_PRICE_PER_POST
    per_url_post: Decimal = DEFAULT_X_PRICE_PER_URL_POST


@dataclass(frozen=True)
class Summary:
    deliveries: int
    per_platform: dict[str, int]
    per_account_day: dict[tuple[str, dt.date], int]
    busiest_account_day: int
    x_posts: int
    x_posts_with_url: int
    x_cost: Decimal
    pricing: XPricing = field(default_factory=XPricing)

    def as_dict(self) -> dict[str, Any]:
        """For the JSON preview, which writes it a piece at a time."""
        return {
            "deliveries": self.deliveries,
            "per_platform": self.per_platform,
            "posts_per_account_per_day": (  # an iterator: 96,000 of them for 6,000 accounts
                {"account": account, "date": day.isoformat(), "posts": count}
                for (account, day), count in sorted(self.per_account_day.items())
            ),
            "busiest_account_day": self.busiest_account_day,
            "x": {
                "posts": self.x_posts,
                "posts_with_url": self.x_posts_with_url,
                "price_per_post_usd": str(self.pricing.per_post),
                "price_per_url_post_usd": str(self.pricing.per_url_post),
                "estimated_cost_usd": str(self.x_cost),
            },
        }


def select(plan: Plan, filters: Filters) -> list[Delivery]:
    return [delivery for delivery in plan.deliveries if filters.keep(delivery)]


def summarize_plan(deliveries: list[Delivery], pricing: XPricing) -> Summary:
    per_platform = Counter(str(d.platform) for d in deliveries)
    per_account_day = Counter((d.account_id, d.local_time.date()) for d in deliveries)
    x_posts = [d for d in deliveries if d.platform is Platform.X]
    with_url = sum(1 for d in x_posts if has_url(d.text))
    cost = (len(x_posts) - with_url) * pricing.per_post + with_url * pricing.per_url_post
    return Summary(
        deliveries=len(deliveries),
        per_platform={str(p): per_platform.get(str(p), 0) for p in Platform},
        per_account_day=dict(per_account_day),
        busiest_account_day=max(per_account_day.values(), default=0),
        x_posts=len(x_posts),
        x_posts_with_url=with_url,
        x_cost=cost.quantize(Decimal("0.01")),
        pricing=pricing,
    )


def delivery_record(delivery: Delivery, source: SourceMap | None = None) -> dict[str, Any]:
    """The flat, secret-free shape of one delivery, shared by every output format."""
    tz = zone(delivery.timezone)
    line = None
    if source is not None:
        found = source.position(delivery.source)
        line = found[0] + 1 if found else None
    return {
        "id": delivery.id,
        "post": delivery.post_id,
        "embassy": delivery.embassy_id,
        "platform": str(delivery.platform),
        "account": delivery.account,
        "part": delivery.part,
        "parts": delivery.parts,
        "due_utc": delivery.due_at.isoformat().replace("+00:00", "Z"),
        "local_time": delivery.local_time.isoformat(timespec="minutes"),
        "timezone": delivery.timezone,
        "utc_offset": utc_offset_label(delivery.due_at, tz) if tz else "",
        "language": delivery.language,
        "text": delivery.text,
        "length": delivery.length,
        "limit": delivery.limit,
        "content_warning": delivery.content_warning,
        "visibility": str(delivery.visibility),
        "replies": str(delivery.replies),
        "media": [
            {
                "file": m.file,
                "alt": m.alt,
                "alt_language": m.alt_language,
                "type": m.mime,
                "width": m.width,
                "height": m.height,
                "bytes": m.size,
            }
            for m in delivery.media
        ],
        "source_line": line,
    }


def problems_by_source(problems: list[Problem]) -> dict[FieldPath, list[Problem]]:
    """Warnings keyed by the field they are about, so a preview can show them inline."""
    found: dict[FieldPath, list[Problem]] = {}
    for problem in problems:
        if problem.severity is not Severity.NOTICE:
            found.setdefault(problem.path, []).append(problem)
    return found


def platform_label(platform: Platform) -> str:
    return CAPABILITIES[platform].label
