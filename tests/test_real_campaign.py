"""The repository's campaigns.yaml is the real 16 Days campaign, and it meets its brief.

The brief (issue 2): at least 12 embassies from UTC-5 to UTC+12, one on a :30 or :45 offset and
one southern-hemisphere embassy on summer time; accounts on X, Mastodon and Bluesky everywhere; a
post on each of the 16 days in English, French and Dutch, some in a local language too; original
cards with real alt text; a thread, a content warning and a post protected by reply controls.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.capabilities import Platform
from scheduler.campaign.model import Replies
from scheduler.campaign.planner import Plan
from scheduler.service.validation import validate_file

CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns.yaml"
START, END = dt.date(2026, 11, 25), dt.date(2026, 12, 10)


@pytest.fixture(scope="module")
def plan() -> Plan:
    result = validate_file(CAMPAIGN)
    errors = [str(problem) for problem in result.problems if problem.is_error]
    assert errors == []
    warnings = [str(problem) for problem in result.problems if problem.severity == "warning"]
    assert warnings == []
    assert result.plan is not None
    return result.plan


def _offset(zone: str, day: dt.date) -> dt.timedelta:
    offset = dt.datetime.combine(day, dt.time(12), ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return offset


def test_the_window_is_the_sixteen_days(plan: Plan) -> None:
    assert (plan.window_start, plan.window_end) == (START, END)


def test_every_embassy_posts_on_every_day_on_every_platform(plan: Plan) -> None:
    days: dict[tuple[str, Platform], set[dt.date]] = defaultdict(set)
    for delivery in plan.deliveries:
        days[delivery.embassy_id, delivery.platform].add(delivery.local_time.date())
    embassies = {embassy for embassy, _ in days}
    assert len(embassies) >= 12
    for embassy in embassies:
        for platform in Platform:
            assert days[embassy, platform] == {START + dt.timedelta(n) for n in range(16)}, (
                embassy,
                platform,
            )


def test_embassies_span_the_required_offsets(plan: Plan) -> None:
    zones = {delivery.timezone for delivery in plan.deliveries}
    offsets = {_offset(zone, dt.date(2026, 12, 1)) for zone in zones}
    assert min(offsets) <= -dt.timedelta(hours=5)
    assert max(offsets) >= dt.timedelta(hours=12)
    assert any(offset % dt.timedelta(hours=1) for offset in offsets), "no :30 or :45 offset"
    # A southern-hemisphere embassy on summer time: its December offset exceeds its June one.
    assert any(
        _offset(zone, dt.date(2026, 12, 1)) > _offset(zone, dt.date(2026, 6, 1)) for zone in zones
    )


def test_posts_come_in_english_french_dutch_and_some_local_languages(plan: Plan) -> None:
    languages = {delivery.language for delivery in plan.deliveries}
    assert {"en", "fr", "nl"} <= languages
    assert languages - {"en", "fr", "nl"}, "no post in a local language"


def test_cards_have_real_alt_text(plan: Plan) -> None:
    attachments = [media for delivery in plan.deliveries for media in delivery.media]
    assert attachments
    for media in attachments:
        assert (CAMPAIGN.parent / media.file).is_file()
        assert len(media.alt.split()) >= 8, media.alt  # a description, not a label


def test_there_is_a_thread_a_content_warning_and_reply_controls(plan: Plan) -> None:
    assert any(delivery.parts > 1 for delivery in plan.deliveries)
    assert any(delivery.content_warning for delivery in plan.deliveries)
    assert any(delivery.replies is not Replies.EVERYONE for delivery in plan.deliveries)
