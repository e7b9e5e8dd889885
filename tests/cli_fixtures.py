"""A small valid campaign, written into a folder with its image, for the CLI tests.

Three accounts per post across X, Mastodon and Bluesky, two languages, one image, one post with
a URL (X bills those differently) and one language fallback (a notice).
"""

from __future__ import annotations

from pathlib import Path

from campaign_builders import write_png

VALID_CAMPAIGN = """\
campaign:
  id: sixteen-days
  name: 16 Days of Activism
  window:
    start: 2026-11-25
    end: 2026-12-10
  posting_times:
    morning: "09:00"
    evening: "18:30"
  hashtags: ["#OrangeTheWorld"]
embassies:
  - id: be-tokyo
    name: Embassy of Belgium in Japan
    country: Japan
    timezone: Asia/Tokyo
    languages: [ja, en]
    accounts:
      x: {handle: "@BelgiumInJapan", credentials: be-tokyo-x}
      bluesky: {handle: belgiuminjapan.bsky.social, credentials: be-tokyo-bsky}
  - id: be-kathmandu
    name: Embassy of Belgium in Nepal
    country: Nepal
    timezone: Asia/Kathmandu
    languages: [en]
    accounts:
      x: {handle: "@BelgiumInNepal", credentials: be-kathmandu-x}
      mastodon:
        handle: "@belgiumnepal"
        instance: https://mastodon.social
        credentials: be-kathmandu-mastodon
posts:
  - id: launch
    day: 1
    text:
      en: "The {embassy} joins 16 Days of Activism."
      ja: "在日ベルギー大使館は16日間キャンペーンに参加します。"
    images:
      - file: media/card.png
        alt: {en: "An orange campaign card", ja: "オレンジ色のキャンペーンカード"}
  - id: report
    date: 2026-11-27
    time: evening
    text:
      en: "Read the report on {country}: https://example.org/report"
"""
"""8 deliveries: 4 per post; 4 on X, of which the 2 'report' ones carry a URL."""

DELIVERIES = 8
X_POSTS = 4
X_POSTS_WITH_URL = 2


def write_campaign_text(
    folder: Path, text: str = VALID_CAMPAIGN, name: str = "campaign.yaml"
) -> Path:
    """``text`` as a campaign file in ``folder``, with a tiny media/card.png beside it."""
    write_png(folder / "media" / "card.png", size=(4, 4), color=(255, 102, 0))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
