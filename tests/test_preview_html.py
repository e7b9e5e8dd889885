"""The HTML preview: one self-contained page, a calendar of days x embassies with post cards."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from campaign_builders import write_png
from click.testing import CliRunner

from scheduler.campaign.planner import Delivery, Plan
from scheduler.cli import main
from scheduler.problems import Problem
from scheduler.service.validation import plan_file, validate_file
from scheduler.views.preview import Filters, XPricing, select, summarize_plan
from scheduler.views.preview.html import render_html

CAMPAIGN = """\
campaign:
  id: html-test
  name: "HTML preview test"
  window: {start: 2026-11-25, end: 2026-11-27}
  posting_times: {morning: "09:00"}
  hashtags: ["#OrangeTheWorld"]
embassies:
  - id: be-tokyo
    name: Embassy of Belgium in Japan
    country: Japan
    timezone: Asia/Tokyo
    languages: [en]
    accounts:
      x: {handle: "@BelgiumInJapan", credentials: secret-name-tokyo-x}
      bluesky: {handle: belgiuminjapan.bsky.social, credentials: secret-name-tokyo-bsky}
  - id: be-brussels
    name: FPS Foreign Affairs
    country: Belgium
    timezone: Europe/Brussels
    languages: [en]
    accounts:
      x: {handle: "@BelgiumMFA", credentials: secret-name-bru-x}
      mastodon:
        handle: "@belgium"
        instance: "https://mastodon.example"
        credentials: secret-name-bru-masto
  - id: be-kathmandu
    name: Embassy of Belgium in Nepal
    country: Nepal
    timezone: Asia/Kathmandu
    languages: [en]
    accounts:
      x: {handle: "@BelgiumNepal", credentials: be-kathmandu-x}
posts:
  - id: launch
    day: 1
    text: {en: "The 16 Days begin. https://www.unwomen.org"}
    images:
      - file: media/orange.png
        alt: {en: "Orange card: 16 Days of Activism"}
  - id: facts
    day: 2
    thread:
      - text: {en: "A thread from {embassy}."}
        images:
          - file: media/orange.png
            alt: {en: "Orange card: 16 Days of Activism"}
      - text: {en: "Part two <script>alert('x')</script> & more #Facts"}
        images:
          - file: media/purple.png
            alt: {en: "Purple card: 1 in 3 women"}
  - id: testimony
    day: 3
    content_warning: {en: "Testimony of abuse"}
    text: {en: "Survivors speak, in {country}."}
"""

LONG_TEXT = ("word " * 70).strip()
LONG_POST = f"""\
  - id: long
    day: 3
    targets: {{embassies: [be-brussels]}}
    text: {{en: "{LONG_TEXT}"}}
"""

CREDENTIALS = [
    "secret-name-tokyo-x",
    "secret-name-tokyo-bsky",
    "secret-name-bru-x",
    "secret-name-bru-masto",
    "be-kathmandu-x",  # the usual embassy-platform naming
]


def write_two_image_campaign(folder: Path, text: str = CAMPAIGN) -> Path:
    """``text`` as campaigns.yaml, with the orange and purple images it names."""
    for name, colour in (("orange", (237, 125, 49)), ("purple", (120, 60, 160))):
        write_png(folder / "media" / f"{name}.png", size=(64, 36), color=colour)
    path = folder / "campaigns.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def render(path: Path, plan: Plan, problems: list[Problem]) -> str:
    deliveries = select(plan, Filters())
    return render_html(
        plan, deliveries, summarize_plan(deliveries, XPricing()), problems, path.parent
    )


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    return write_two_image_campaign(tmp_path)


@pytest.fixture
def planned(campaign: Path) -> tuple[Plan, list[Problem]]:
    return plan_file(campaign)


@pytest.fixture
def page(campaign: Path, planned: tuple[Plan, list[Problem]]) -> str:
    return render(campaign, *planned)


def articles(page: str) -> list[str]:
    """The HTML of each card, in page order."""
    return re.findall(r"<article\b.*?</article>", page, flags=re.S)


def anchor(delivery: Delivery) -> str:
    return "c-" + re.sub(r"[^A-Za-z0-9_-]", "_", delivery.id)


def card_of(page: str, delivery: Delivery) -> str:
    found = [card for card in articles(page) if f'id="{anchor(delivery)}"' in card]
    assert len(found) == 1, delivery.id
    return found[0]


def test_every_day_of_the_window_is_a_row(page: str) -> None:
    for number, date in ((1, "Wed 25 Nov"), (2, "Thu 26 Nov"), (3, "Fri 27 Nov")):
        assert re.search(rf'<th class="day[^"]*" id="d202611{24 + number}">', page)
        assert f'Day {number}</span><span class="day-date">{date}' in page
    assert "Day 4" not in page


def test_every_embassy_is_a_column_with_its_zone_and_offset(page: str) -> None:
    heads = re.findall(r'<th class="embassy" data-col="([^"]+)">(.*?)</th>', page, flags=re.S)
    assert [embassy for embassy, _ in heads] == ["be-tokyo", "be-kathmandu", "be-brussels"]
    texts = dict(heads)
    assert "Asia/Tokyo · UTC+09:00" in texts["be-tokyo"]
    assert "Asia/Kathmandu · UTC+05:45" in texts["be-kathmandu"]
    assert "Europe/Brussels · UTC+01:00" in texts["be-brussels"]


def test_every_delivery_is_one_card_in_its_embassy_and_local_day(
    page: str, planned: tuple[Plan, list[Problem]]
) -> None:
    plan, _ = planned
    assert len(articles(page)) == len(plan.deliveries)
    rows = re.findall(r'<tr><th class="day[^"]*" id="d(\d{8})">(.*?)</tr>', page, flags=re.S)
    for delivery in plan.deliveries:
        row = dict(rows)[f"{delivery.local_time:%Y%m%d}"]
        cells = dict(re.findall(r'<td data-col="([^"]+)">(.*?)</td>', row, flags=re.S))
        assert f'id="{anchor(delivery)}"' in cells[delivery.embassy_id]


def test_each_image_is_embedded_once_however_many_cards_show_it(
    campaign: Path, page: str, planned: tuple[Plan, list[Problem]]
) -> None:
    plan, _ = planned
    for name in ("orange", "purple"):
        data = base64.b64encode((campaign.parent / "media" / f"{name}.png").read_bytes())
        assert page.count(data.decode()) == 1
    showing_orange = sum(
        1 for d in plan.deliveries for m in d.media if m.file == "media/orange.png"
    )
    assert showing_orange >= 10
    assert page.count("<img ") == sum(len(d.media) for d in plan.deliveries)


def media_map(page: str) -> dict[str, dict[str, str]]:
    found = re.search(r'<script type="application/json" id="media">(.*?)</script>', page, re.S)
    assert found is not None
    document: dict[str, dict[str, str]] = json.loads(found.group(1))
    return document


def test_images_carry_their_alt_text(page: str) -> None:
    alts = {text: key for key, text in media_map(page)["alts"].items()}
    orange = alts["Orange card: 16 Days of Activism"]
    assert page.count(f'data-alt="{orange}"') >= 10  # each caption, filled by the script
    assert 'figure::before{content:"ALT"' in page  # the badge on every image
    assert (
        f'<b>ALT · en</b> <span class="alt-body" dir="auto" '
        f'data-alt="{alts["Purple card: 1 in 3 women"]}"></span>'
    ) in page
    assert "img.alt = alt" in page  # the image's own alt is the caption's text


def test_each_alt_text_is_in_the_page_once(page: str) -> None:
    alts = media_map(page)["alts"]
    assert sorted(alts.values()) == [
        "Orange card: 16 Days of Activism",
        "Purple card: 1 in 3 women",
    ]
    assert page.count("Orange card: 16 Days of Activism") == 1
    assert page.count("Purple card: 1 in 3 women") == 1


def test_an_alt_text_cannot_end_the_script_it_is_in(tmp_path: Path) -> None:
    hostile = CAMPAIGN.replace("Purple card: 1 in 3 women", "Purple </script><!--<script> card")
    path = write_two_image_campaign(tmp_path, hostile)
    page = render(path, *plan_file(path))
    assert "</script><!--" not in page
    assert "Purple \\u003c/script>\\u003c!--\\u003cscript> card" in page
    assert "Purple </script><!--<script> card" in media_map(page)["alts"].values()


def test_every_text_from_the_file_reads_in_its_own_direction(tmp_path: Path) -> None:
    rtl = CAMPAIGN.replace("Survivors speak, in {country}.", "الناجيات يتحدثن.")
    path = write_two_image_campaign(tmp_path, rtl)
    page = render(path, *plan_file(path))
    for kind in ("text", "cw-text", "alt-body", "handle", "acct"):
        elements = re.findall(rf'<\w+ class="{kind}\b[^"]*"[^>]*>', page)
        assert elements, kind
        assert all('dir="auto"' in element for element in elements), kind
    assert '<h1 dir="auto">' in page
    assert '<p class="text" dir="auto">الناجيات' in page


def test_handles_are_shown_whole(page: str) -> None:
    rules = dict(re.findall(r"\n\.(handle|acct)\{([^}]*)\}", page))
    assert set(rules) == {"handle", "acct"}
    for rule in rules.values():
        assert "ellipsis" not in rule and "nowrap" not in rule
        assert "overflow-wrap:anywhere" in rule  # a long handle wraps, whole
    assert '<span class="handle" dir="auto">@belgium@mastodon.example</span>' in page


def test_texts_from_the_file_are_escaped(page: str) -> None:
    assert "<script>alert" not in page
    assert (
        "Part two &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more "
        '<span class="tag">#Facts</span>'
    ) in page
    assert page.count("<script") == 2  # the media map and the filters, nothing from the file


def test_the_page_loads_nothing_from_outside(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page, flags=re.I)
    assert "<link" not in page
    assert "@import" not in page
    # Links in post texts are shown, never followed or loaded.
    assert '<span class="url">https://www.unwomen.org</span>' in page


def test_credentials_names_never_appear(page: str) -> None:
    for name in CREDENTIALS:
        assert name not in page


def test_cards_look_like_their_platform(page: str, planned: tuple[Plan, list[Problem]]) -> None:
    plan, _ = planned
    masto = next(d for d in plan.deliveries if d.platform == "mastodon" and d.post_id == "launch")
    card = card_of(page, masto)
    assert 'class="card p-mastodon' in card
    assert "@belgium@mastodon.example" in card
    assert "09:00 CET · 08:00 UTC" in re.sub(r"<[^>]+>", "", card)
    assert '<span class="tag">#OrangeTheWorld</span>' in card
    assert re.search(r'<span class="count"[^>]*>.*?\d+/500</span>', card)


def test_mastodon_shows_the_content_warning_as_a_summary_that_expands(
    page: str, planned: tuple[Plan, list[Problem]]
) -> None:
    plan, _ = planned
    by_platform = {
        d.platform: card_of(page, d) for d in plan.deliveries if d.post_id == "testimony"
    }
    assert (
        '<details class="cw"><summary><span class="cw-text" dir="auto">Testimony of abuse'
        in (by_platform["mastodon"])
    )
    # Elsewhere the warning is part of the text, exactly as it will be posted.
    assert "CW: Testimony of abuse" in by_platform["x"]
    assert '<details class="cw">' not in by_platform["x"]


def test_thread_parts_are_drawn_together_in_order(page: str) -> None:
    threads = re.findall(r'<div class="post thread p-x"[^>]*>(.*?)</div>', page, flags=re.S)
    assert len(threads) == 3  # one per embassy's X account
    for thread in threads:
        assert "Thread · 2 posts" in thread
    first = re.search(r'<div class="post thread p-x".*?(?=<div class="post)', page, flags=re.S)
    assert first is not None
    parts = re.findall(r'<span class="part">(\d/\d)</span>', first.group())
    assert parts == ["1/2", "2/2"]


def test_warnings_are_shown_on_the_cards_they_concern(
    page: str, planned: tuple[Plan, list[Problem]]
) -> None:
    plan, problems = planned
    assert any(p.code == "identical-x-text" for p in problems)
    launch = [d for d in plan.deliveries if d.post_id == "launch"]
    for delivery in launch:
        card = card_of(page, delivery)
        on_x = delivery.platform == "x"
        assert ("may treat identical posts" in card) is on_x, delivery.id
        assert ('<ul class="card-problems">' in card) is on_x


def test_an_over_limit_count_is_flagged(tmp_path: Path) -> None:
    path = write_two_image_campaign(tmp_path, CAMPAIGN + LONG_POST)
    result = validate_file(path)
    assert not result.ok and result.plan is not None  # too long: planned, but an error
    page = render(path, result.plan, result.problems)
    long_x = next(d for d in result.plan.deliveries if d.post_id == "long" and d.platform == "x")
    card = card_of(page, long_x)
    assert long_x.length > 280
    assert re.search(rf'<span class="count over"[^>]*>.*?{long_x.length}/280</span>', card)
    assert f"{long_x.length} characters: X takes at most 280" in card
    long_masto = next(
        d for d in result.plan.deliveries if d.post_id == "long" and d.platform == "mastodon"
    )
    assert 'class="count over"' not in card_of(page, long_masto)


def test_the_summary_counts_platforms_and_estimates_the_x_cost(page: str) -> None:
    assert re.search(r'<span class="tile-label">X</span><span class="tile-value">12<', page)
    assert re.search(r'<span class="tile-label">Mastodon</span><span class="tile-value">4<', page)
    # 12 X posts, 3 of them with a URL: 9 x 0.015 + 3 x 0.20 = 0.735, rounded to cents
    assert '<span class="tile-value">$0.74</span>' in page
    assert "<code>be-brussels/x</code>" in page


def test_a_missing_image_still_shows_its_alt_text(
    campaign: Path, planned: tuple[Plan, list[Problem]]
) -> None:
    (campaign.parent / "media" / "purple.png").unlink()
    page = render(campaign, *planned)
    assert "media/purple.png cannot be read" in page
    assert "Purple card: 1 in 3 women" in page


def test_the_output_is_deterministic(campaign: Path) -> None:
    first = render(campaign, *plan_file(campaign))
    second = render(campaign, *plan_file(campaign))
    assert first == second


def test_cli_writes_preview_html_by_default(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["preview", str(campaign), "-f", "html"])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "preview.html").read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>")
    assert "HTML preview test" in written


def test_cli_filters_reach_the_page(campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "tokyo.html"
    result = CliRunner().invoke(
        main, ["preview", str(campaign), "-f", "html", "-o", str(out), "--embassy", "be-tokyo"]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert re.findall(r'<th class="embassy" data-col="([^"]+)">', page) == ["be-tokyo"]
    assert "Day 3" in page


def test_only_the_selected_days_are_rows(campaign: Path, tmp_path: Path) -> None:
    out = tmp_path / "day3.html"
    result = CliRunner().invoke(
        main, ["preview", str(campaign), "-f", "html", "-o", str(out), "--day", "3"]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert re.findall(r'<th class="day[^"]*" id="d(\d{8})">', page) == ["20261127"]
    heat = re.search(r'<table class="heat"><thead>(.*?)</thead>', page, flags=re.S)
    assert heat is not None
    assert "Day 3" in heat.group(1)
    assert "Day 1" not in heat.group(1) and "Day 2" not in heat.group(1)


def many_embassies(count: int) -> str:
    entries = "".join(
        f"""  - id: be-city{n:02d}
    name: Embassy of Belgium {n}
    country: Japan
    timezone: Asia/Tokyo
    languages: [en]
    accounts:
      x: {{handle: "@BelgiumCity{n:02d}", credentials: c{n:02d}}}
"""
        for n in range(count)
    )
    head, rest = CAMPAIGN.split("embassies:\n", 1)
    return head + "embassies:\n" + entries + rest[rest.index("posts:") :]


@pytest.mark.parametrize(("embassies", "layout"), [(3, "grid"), (4, "grid"), (16, "by-day")])
def test_many_embassies_open_by_day_and_the_grid_is_a_click_away(
    tmp_path: Path, embassies: int, layout: str
) -> None:
    """A 1,400 px screen shows four grid columns of cards side by side (structurally: no browser
    here); with more embassies the page opens by day, each day's embassies wrapping."""
    path = write_two_image_campaign(tmp_path, many_embassies(embassies))
    page = render(path, *plan_file(path))
    assert len(re.findall(r'<th class="embassy"', page)) == embassies
    assert f'<section class="calendar-wrap {layout}" id="calendar">' in page
    assert f'<input type="radio" name="layout" value="{layout}" checked>' in page
    other = "grid" if layout == "by-day" else "by-day"
    assert f'<input type="radio" name="layout" value="{other}">' in page
    assert "grid-template-columns:repeat(auto-fill,minmax(260px,1fr))" in page
    assert ".by-day .calendar td::before{content:attr(data-col)" in page  # each cell's embassy
