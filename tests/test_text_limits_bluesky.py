"""Bluesky's two text limits, 300 graphemes and 3,000 bytes of UTF-8, in the one rule
(``adapters.textlength.too_long``) that the validator, the queue and the adapter report
through (the adapter: test_adapters_bluesky.py; the PDS's answer: test_platform_bodies_bluesky).

A family emoji is one grapheme of 25 bytes: 130 of them fit every count of characters and are
still refused by the PDS.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from campaign_builders import post, write_campaign
from sqlalchemy import select

from adapters import registry
from adapters.base import AdapterSettings, OutgoingPart
from adapters.capabilities import BLUESKY, MASTODON, X
from adapters.errors import ContentRejected
from adapters.textlength import too_long, utf8_bytes
from scheduler.errors import CampaignFileError
from scheduler.service.queue import queue_add, queue_edit
from scheduler.service.sync import sync_file
from scheduler.service.validation import validate_file
from scheduler.store.database import Database
from scheduler.store.deliveries import read_payload
from scheduler.store.schema import Delivery
from scheduler.views import preview
from scheduler.views.preview.html import render_html

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
OVER_BYTES = "at most 300 graphemes and 3,000 bytes of UTF-8 (this text is 3,250 bytes)"
ON_BLUESKY = {"embassies": ["be-tokyo"], "platforms": ["bluesky"]}


def test_a_family_emoji_is_one_grapheme_of_25_bytes() -> None:
    assert (utf8_bytes(FAMILY), too_long(FAMILY * 120, BLUESKY)) == (25, None)  # 3,000: fits


@pytest.mark.parametrize(
    ("text", "length", "size", "expected"),
    [
        (FAMILY * 130, 130, 3250, OVER_BYTES),
        (
            "e\u0301" * 301,
            301,
            903,
            "at most 300 graphemes and 3,000 bytes of UTF-8 (this text is 301 graphemes)",
        ),
        (
            "日本語" * 334,
            1002,
            3006,
            "at most 300 graphemes and 3,000 bytes of UTF-8 "
            "(this text is 1,002 graphemes and 3,006 bytes)",
        ),
    ],
)
def test_bluesky_says_what_it_takes_and_what_the_text_is(
    text: str, length: int, size: int, expected: str
) -> None:
    over = too_long(text, BLUESKY)
    assert over is not None
    assert (over.length, over.size, over.expected) == (length, size, expected)


def test_platforms_without_a_byte_limit_keep_their_one_figure() -> None:
    assert too_long(FAMILY * 130, X) is None  # 260 of 280: X counts an emoji sequence as 2
    assert too_long(FAMILY * 130, MASTODON) is None
    over = too_long("x" * 501, MASTODON, limit=500)
    assert over is not None and over.expected == "at most 500"
    assert too_long("x" * 501, MASTODON, limit=1000) is None


def _texts(problems: list[Any], code: str = "too-long") -> list[str]:
    return [f"{p.message}; expected {p.expected}" for p in problems if p.code == code]


def test_the_validator_counts_bytes_too(tmp_path: Path) -> None:
    posts = [post("families", text={"en": FAMILY * 130}, targets=ON_BLUESKY)]
    result = validate_file(write_campaign(tmp_path, posts=posts))
    assert not result.ok
    assert _texts(result.problems) == [
        "130 characters on Bluesky for be-tokyo (counted with hashtags and content warning, "
        f"as posted); expected {OVER_BYTES}"
    ]
    fits = [post("families", text={"en": FAMILY * 120}, targets=ON_BLUESKY)]
    assert validate_file(write_campaign(tmp_path, posts=fits)).ok


def test_hashtags_and_the_content_warning_count_in_bytes(tmp_path: Path) -> None:
    """3,000 bytes of text, then the warning's line and the hashtags: over, as posted."""
    posts = [
        post(
            "families",
            text={"en": FAMILY * 120},
            targets=ON_BLUESKY,
            content_warning={"en": "é"},
            hashtags=["#16Days"],
        )
    ]
    [problem] = _texts(validate_file(write_campaign(tmp_path, posts=posts)).problems)
    added = len("CW: é\n\n".encode()) + len("\n\n#16Days")
    assert problem.endswith(f"(this text is {3000 + added:,} bytes)")


# --- the queue: campaign queue add / edit -----------------------------------------------------


def _campaign(tmp_path: Path, database: Database) -> None:
    sync_file(write_campaign(tmp_path), database, actor="ines")


def _deliveries(database: Database, post_id: str) -> list[str]:
    with database.transaction() as session:
        rows = session.scalars(select(Delivery).where(Delivery.post_id == post_id))
        return sorted(read_payload(row)["text"] for row in rows)


def test_queue_add_refuses_a_text_over_3000_bytes(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    definition = {"id": "extra", "text": {"en": FAMILY * 130}, "targets": ON_BLUESKY}
    with pytest.raises(CampaignFileError) as raised:
        queue_add(database, definition, actor="marc", folder=tmp_path)
    assert [OVER_BYTES in text for text in _texts(raised.value.problems)] == [True]
    assert _deliveries(database, "extra") == []


def test_queue_edit_refuses_a_text_over_3000_bytes(tmp_path: Path, database: Database) -> None:
    _campaign(tmp_path, database)
    definition = {"id": "extra", "text": {"en": FAMILY * 100}, "targets": ON_BLUESKY}
    queue_add(database, definition, actor="marc", folder=tmp_path)
    with pytest.raises(CampaignFileError) as raised:
        queue_edit(database, "extra", {"text": {"en": FAMILY * 130}}, actor="marc", folder=tmp_path)
    assert [OVER_BYTES in text for text in _texts(raised.value.problems)] == [True]
    assert _deliveries(database, "extra") == [FAMILY * 100]  # the edit changed nothing


# --- a dry run and the preview judge as the validator does ------------------------------------


def test_a_dry_run_refuses_what_the_pds_would() -> None:
    adapter = registry.create(
        "bluesky", settings=AdapterSettings(handle="@a.bsky.social"), credentials={}, dry_run=True
    )
    with pytest.raises(ContentRejected, match=re.escape(OVER_BYTES)):
        adapter.publish(OutgoingPart(FAMILY * 130, "key-1"))
    assert adapter.publish(OutgoingPart(FAMILY * 120, "key-2")).remote_id == "dry-run:key-2"


def test_the_preview_flags_a_card_over_3000_bytes(tmp_path: Path) -> None:
    posts = [post("families", text={"en": FAMILY * 130}, targets=ON_BLUESKY)]
    path = write_campaign(tmp_path, posts=posts)
    result = validate_file(path)
    assert result.plan is not None
    deliveries = preview.select(result.plan, preview.Filters())
    page = render_html(
        result.plan,
        deliveries,
        preview.summarize_plan(deliveries, preview.XPricing()),
        result.problems,
        tmp_path,
    )
    assert re.search(r'<span class="count over"[^>]*>.*?130/300</span>', page)
    assert f"130 characters: Bluesky takes {OVER_BYTES}" in page
