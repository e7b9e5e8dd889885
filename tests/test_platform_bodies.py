"""Real response bodies from the platforms' documentation (tests/data/platforms, each with its
source): the adapters read them back to the text that was written, and the fakes answer in the
same shapes, so that a test passing against a fake says something about the platform."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fakes.mastodon import render_html
from fakes.x import as_x_returns

from adapters.mastodon import plain_text
from adapters.x import _as_sent

BODIES = Path(__file__).parent / "data" / "platforms"


def _body(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((BODIES / name).read_text(encoding="utf-8"))
    return loaded


def _spans(content: str) -> list[tuple[str, str]]:
    return re.findall(r'<span class="([a-z]*)">([^<]*)</span>', content)


def test_mastodon_link_html_is_read_back_to_the_text_written() -> None:
    status = _body("mastodon_status_with_link.json")
    assert plain_text(status["content"], "mastodon.social") == status["_written"]


def test_the_fake_renders_a_link_as_mainline_mastodon_does() -> None:
    status = _body("mastodon_status_with_link.json")
    ours = render_html(status["_written"], "https://mastodon.social")
    assert _spans(ours) == _spans(status["content"])  # the same invisible / ellipsis split
    assert plain_text(ours, "mastodon.social") == status["_written"]


def test_mentions_hashtags_and_line_breaks_survive_the_round_trip() -> None:
    written = "Day 3 of #16Days\nwith @unwomen@mastodon.social & @local_team <3\n\nhttps://un.org"
    html = render_html(written, "https://diplo.social")
    assert "&amp;" in html and "<br />" in html and "</p><p>" in html
    assert plain_text(html, "diplo.social") == written


def test_x_links_and_entities_are_read_back_to_the_text_written() -> None:
    reply = _body("x_tweet_reply.json")
    assert _as_sent(reply["data"][0]) == reply["_written"]


def test_the_fake_shortens_links_as_x_does() -> None:
    reply = _body("x_tweet_reply.json")
    text, urls = as_x_returns(reply["_written"])
    [documented] = reply["data"][0]["entities"]["urls"]
    assert (urls[0]["start"], urls[0]["end"]) == (documented["start"], documented["end"])
    assert _as_sent({"text": text, "entities": {"urls": urls}}) == reply["_written"]


def test_x_escapes_only_between_links() -> None:
    written = "Q&A <live> at https://example.org/?a=1&copy=2 & more"
    text, urls = as_x_returns(written)
    assert "&amp;" in text and "&lt;live&gt;" in text
    assert _as_sent({"text": text, "entities": {"urls": urls}}) == written
