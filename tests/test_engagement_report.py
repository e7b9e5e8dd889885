"""The issue's "done when", short of the browser: posts sent for real through the dispatcher to
the fake platforms, their counts collected twice by `collect` (the second time X out of credits
and Mastodon refusing its credentials), then the report: every sent delivery's counts per
platform, the refusals as notes, the figures collected before still shown. SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from campaign_builders import post
from dispatch_world import DUE, World, clock, fakes, world

from scheduler.service import reports
from scheduler.service.engagement import collect
from scheduler.settings import EngagementSettings, PlatformSettings, Settings
from scheduler.views.reporting.report import engagement_csv, report_html, report_results

__all__ = ["clock", "fakes", "world"]  # fixtures, used by name

HOUR = dt.timedelta(hours=1)
READS = {"x": "^/2/tweets$", "mastodon": "^/api/v1/statuses", "bluesky": "getPosts$"}


def _settings(world: World, **engagement: Any) -> Settings:
    fast = PlatformSettings(timeout=2.0)
    appview = PlatformSettings(timeout=2.0, appview=world.platforms.bluesky.url)
    return Settings(
        platforms={"x": fast, "mastodon": fast, "bluesky": appview},  # type: ignore[dict-item]
        engagement=EngagementSettings(**engagement),
    )


def _remote(world: World, platform: str) -> list[str]:
    return [row.remote_id or "" for row in world.rows() if row.platform == platform]


def _count_up(world: World, factor: int) -> None:
    for index, remote in enumerate(_remote(world, "x")):
        world.platforms.x.set_counts(remote, like_count=factor * (index + 1), retweet_count=factor)
    for index, remote in enumerate(_remote(world, "mastodon")):
        world.platforms.mastodon.set_counts(remote, favourites_count=factor * (index + 2))
    for index, remote in enumerate(_remote(world, "bluesky")):
        world.platforms.bluesky.set_counts(remote, likeCount=factor * (index + 3), repostCount=1)


def test_a_collected_campaign_reports_every_sent_delivery_and_each_refusal(world: World) -> None:
    world.sync([post("d01-open", time="09:00"), post("d02-more", time="09:00")],
               platforms=("x", "mastodon", "bluesky"), cities=("be-paris", "be-rome"))  # fmt: skip
    world.clock.advance_to(DUE)
    world.send()
    world.later()
    assert world.states() == ["sent"] * 12
    settings = _settings(world)
    _count_up(world, 1)
    first = collect(world.database, settings, now=DUE + HOUR)
    assert first.complete and first.fetched == 12
    _count_up(world, 10)
    world.platforms.x.fail(402, method="GET", path=READS["x"])
    world.platforms.mastodon.fail(401, method="GET", path=READS["mastodon"])
    second = collect(world.database, settings, now=DUE + 25 * HOUR)
    assert not second.complete

    data = reports.report(world.database, now=DUE + 26 * HOUR)
    results = report_results(data, reports.engagement_figures(world.database))
    assert len(results.measured) == 12 and results.unmeasured == 0
    by_platform = {p: [m for m in results.measured if m.row.platform == p] for p in READS}
    # Bluesky answered both times: its latest counts; X refused the second time: the first ones
    assert sorted(m.counts["likes"] for m in by_platform["bluesky"]) == [30, 40, 50, 60]
    assert sorted(m.counts["likes"] for m in by_platform["x"]) == [1, 2, 3, 4]
    assert {m.fetched_at for m in by_platform["x"]} == {DUE + HOUR}
    favourites = sorted(m.counts["favourites"] for m in by_platform["mastodon"])
    assert favourites[0] == 2  # Mastodon's first account refused: its first counts stay
    assert "quotes" in by_platform["bluesky"][0].counts  # the fake gives every postView count
    totals = {(t.column.platform, t.column.metric): t.value for t in results.totals}
    assert totals["bluesky", "likes"] == 180 and totals["x", "likes"] == 10
    assert ("mastodon", "likes") not in totals

    assert results.last is not None
    kinds = sorted((t.platform, t.kind) for t in results.last.troubles)
    assert ("mastodon", "401") in kinds and ("x", "402") in kinds
    page = report_html(data, "db", results)
    assert "out of credits (402)" in page and "credentials (401)" in page
    assert "Bluesky likes per embassy" in page and "X likes per embassy" in page
    rows = engagement_csv(results).splitlines()[1:]
    assert len(rows) == sum(len(m.counts) for m in results.measured)
    assert {row.split(",")[0] for row in rows} == {row.key for row in world.rows()}
