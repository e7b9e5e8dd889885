"""The HTML preview: one self-contained page, a calendar of campaign days x embassies.

Each delivery is drawn as a card that resembles the platform's own post, with its image, alt
text, character count and warnings. The page loads nothing from anywhere: the style sheet and
the script are inline, and each image is embedded once, as a data URI in a JSON map that a few
lines of script hand to every ``<img>`` showing it (a campaign has hundreds of cards sharing a
dozen images, so repeating the base64 per card would weigh hundreds of megabytes). Alt texts are
in that map once each too, and the script writes them into the cards' captions.

Every text from the campaign (post texts, content warnings, alt texts, handles, the campaign's
name) is in an element with ``dir="auto"``, so a right-to-left text reads right to left. With
more embassies than fit side by side (``WIDE_GRID``), the calendar opens by day: each day's
embassies wrap across the width; the toolbar switches to the grid of one column per embassy.

The page is a pure function of its inputs, with no generation time, so tests can compare it
byte for byte. Every text from the campaign file is escaped; credentials names never appear.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import groupby
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from adapters.capabilities import CAPABILITIES, Platform
from scheduler.campaign.model import Replies, Visibility
from scheduler.campaign.planner import PLATFORM_ORDER, Attachment, Delivery, Plan
from scheduler.campaign.sourcemap import SourceMap
from scheduler.campaign.timing import utc_offset_label, zone
from scheduler.problems import FieldPath, Problem, Severity, error, format_path
from scheduler.views.preview import Summary, platform_label, problems_by_source

# URLs, hashtags and mentions, highlighted the way the platforms draw them. The URL stops
# before trailing punctuation, as the platforms' own linkifiers do.
_TOKENS = re.compile(
    r"(?P<url>https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'])"
    r"|(?P<tag>(?<![\w#])#\w+)"
    r"|(?P<mention>(?<![\w@])@\w+(?:@[\w-]+(?:\.[\w-]+)+)?)"
)
_VISIBILITY = {
    Visibility.PUBLIC: "Public",
    Visibility.UNLISTED: "Unlisted",
    Visibility.PRIVATE: "Followers only",
}
_REPLIES = {
    Replies.EVERYONE: "Everyone can reply",
    Replies.FOLLOWING: "Accounts it follows can reply",
    Replies.MENTIONED: "Only mentioned accounts can reply",
}


def render_html(
    plan: Plan,
    deliveries: list[Delivery],
    summary: Summary,
    problems: list[Problem],
    media_folder: Path,
    *,
    days: Sequence[dt.date] = (),
) -> str:
    """The whole page, ready to be written to ``preview.html``.

    ``days``: the local dates the preview was limited to (``--day``); only those are rows.
    """
    media = _Media.collect(media_folder, deliveries)
    context = _Context(media, problems_by_source(problems), plan.source)
    columns = _columns(plan, deliveries)
    shown_days = _days(plan, deliveries, days)
    layout = _default_layout(columns)
    body = "\n".join(
        [
            _masthead(plan, summary),
            _toolbar(columns, layout),
            _summary_section(plan, summary, columns, shown_days),
            _problems_section(problems),
            _calendar(plan, deliveries, columns, shown_days, context, layout),
        ]
    )
    return _PAGE.substitute(
        title=escape(f"{plan.campaign_name} - dry-run preview"),
        css=_CSS,
        body=body,
        media=media.json(),
        script=_SCRIPT,
    )


# --- images ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Media:
    """Each image file once, keyed by its content, so identical files are embedded once too;
    and each alt text once, however many cards show it."""

    data: dict[str, str]
    """Key -> data URI, in order of first use."""
    alts: dict[str, str]
    """Key -> alt text, in order of first use."""

    @classmethod
    def collect(cls, folder: Path, deliveries: list[Delivery]) -> _Media:
        data: dict[str, str] = {}
        alts: dict[str, str] = {}
        for attachment in (item for delivery in deliveries for item in delivery.media):
            key = media_key(attachment)
            if key not in data:
                uri = _data_uri(folder, attachment)
                if uri is not None:
                    data[key] = uri
            alts.setdefault(alt_key(attachment.alt), attachment.alt)
        return cls(data, alts)

    def has(self, attachment: Attachment) -> bool:
        return media_key(attachment) in self.data

    def json(self) -> str:
        # The map sits inside <script>: no '<' at all may appear in it ('</script>' would end
        # it, '<!--' would change how it is read), whatever an alt text holds.
        document = {"images": self.data, "alts": self.alts}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).replace(
            "<", "\\u003c"
        )


def media_key(attachment: Attachment) -> str:
    return "m" + attachment.sha256[:16]


def alt_key(alt: str) -> str:
    return "a" + hashlib.sha256(alt.encode("utf-8")).hexdigest()[:12]


def _data_uri(folder: Path, attachment: Attachment) -> str | None:
    try:
        data = (folder / attachment.file).read_bytes()
    except OSError:
        return None  # the card still shows the alt text and says the file is missing
    return f"data:{attachment.mime};base64,{base64.b64encode(data).decode('ascii')}"


# --- layout: columns and rows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    embassy: str
    timezone: str
    offsets: str
    accounts: tuple[tuple[Platform, str], ...]
    posts: int
    east: int
    """Minutes ahead of UTC at the start, to order columns the way the day travels."""


@dataclass(frozen=True, slots=True)
class _Context:
    media: _Media
    inline: dict[FieldPath, list[Problem]]
    source: SourceMap | None


def _columns(plan: Plan, deliveries: list[Delivery]) -> list[_Column]:
    by_embassy: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_embassy[delivery.embassy_id].append(delivery)
    columns = [_column(plan, items) for items in by_embassy.values()]
    return sorted(columns, key=lambda column: (-column.east, column.embassy))


def _column(plan: Plan, items: list[Delivery]) -> _Column:
    first = items[0]
    accounts = {d.platform: _handle(d) for d in items}
    start, end = (
        dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        for day in (plan.window_start, plan.window_end)
    )
    tz = zone(first.timezone)
    labels = [utc_offset_label(instant, tz) for instant in (start, end)] if tz else ["", ""]
    offset = start.astimezone(tz).utcoffset() if tz else None
    return _Column(
        embassy=first.embassy_id,
        timezone=first.timezone,
        offsets=labels[0] if labels[0] == labels[1] else " → ".join(labels),
        accounts=tuple(sorted(accounts.items(), key=lambda item: PLATFORM_ORDER[item[0]])),
        posts=len(items),
        east=int(offset.total_seconds() // 60) if offset else 0,
    )


def _days(plan: Plan, deliveries: list[Delivery], selected: Sequence[dt.date]) -> list[dt.date]:
    """The selected days; without a selection, every day of the window, plus any local date
    outside it that a post falls on."""
    if selected:
        return sorted(set(selected))
    count = (plan.window_end - plan.window_start).days + 1
    days = {plan.window_start + dt.timedelta(days=n) for n in range(max(count, 0))}
    days.update(delivery.local_time.date() for delivery in deliveries)
    return sorted(days)


WIDE_GRID = 4
"""Embassy columns of the grid that fit side by side on a 1,400 px screen; with more, the page
opens by day (each day's embassies wrap across the width) and the grid is a click away."""


def _default_layout(columns: list[_Column]) -> str:
    return "grid" if len(columns) <= WIDE_GRID else "by-day"


def _day_name(plan: Plan, day: dt.date) -> str:
    if day < plan.window_start:
        return "Before"
    if day > plan.window_end:
        return "After"
    return f"Day {(day - plan.window_start).days + 1}"


def _handle(delivery: Delivery) -> str:
    handle = "@" + delivery.account.lstrip("@")
    if delivery.platform is Platform.MASTODON and delivery.instance and handle.count("@") == 1:
        host = urlsplit(delivery.instance).hostname
        return f"{handle}@{host}" if host else handle
    return handle


# --- masthead, filters, summary ----------------------------------------------------------------


def _masthead(plan: Plan, summary: Summary) -> str:
    window = f"{plan.window_start:%a %d %b %Y} to {plan.window_end:%a %d %b %Y}"
    return (
        '<header class="masthead"><div>'
        f'<h1 dir="auto">{escape(plan.campaign_name)}</h1>'
        f'<p class="sub"><code>{escape(plan.campaign_id)}</code> · {escape(window)} · '
        f"{summary.deliveries} deliveries</p></div>"
        '<p class="dry">Dry run · nothing is sent</p></header>'
    )


def _toolbar(columns: list[_Column], layout: str) -> str:
    platforms = "".join(
        _checkbox("platform", str(p), platform_label(p), f"chip-{p}") for p in Platform
    )
    embassies = "".join(_checkbox("embassy", c.embassy, c.embassy, "chip-e") for c in columns)
    return (
        '<form class="toolbar" id="filters" autocomplete="off">'
        f"<fieldset><legend>Platforms</legend>{platforms}</fieldset>"
        f'<fieldset class="embassies"><legend>Embassies</legend>{embassies}'
        '<button type="button" data-all="embassy">All</button>'
        '<button type="button" data-none="embassy">None</button></fieldset>'
        "<fieldset><legend>Show</legend>"
        f"{_checkbox('warnings', 'only', 'Only posts with warnings', 'chip-w', checked=False)}"
        "</fieldset><fieldset><legend>Layout</legend>"
        f"{_radio('layout', 'by-day', 'By day', layout)}{_radio('layout', 'grid', 'Grid', layout)}"
        '</fieldset><output id="shown" class="shown"></output></form>'
    )


def _radio(name: str, value: str, label: str, current: str) -> str:
    mark = " checked" if value == current else ""
    return (
        f'<label class="chip"><input type="radio" name="{name}" value="{value}"{mark}>'
        f"{escape(label)}</label>"
    )


def _checkbox(name: str, value: str, label: str, style: str, *, checked: bool = True) -> str:
    mark = " checked" if checked else ""
    return (
        f'<label class="chip {style}"><input type="checkbox" name="{name}" '
        f'value="{escape(value)}"{mark}>{escape(label)}</label>'
    )


def _summary_section(
    plan: Plan, summary: Summary, columns: list[_Column], days: list[dt.date]
) -> str:
    return (
        '<section class="summary"><h2>Summary</h2>'
        f'<div class="tiles">{_tiles(summary)}</div>{_count_legend()}'
        f"{_account_day_table(plan, summary, columns, days)}</section>"
    )


def _count_legend() -> str:
    """How each platform counts a text: said once here, not on every card."""
    rules = ", ".join(
        f"{escape(platform_label(p))} <code>{escape(CAPABILITIES[p].length_rule)}</code>"
        for p in Platform
    )
    return f'<p class="legend">Lengths on the cards count as each platform counts: {rules}.</p>'


def _tiles(summary: Summary) -> str:
    pricing = summary.pricing
    tiles = [
        _tile("Deliveries", str(summary.deliveries), "posts and thread parts"),
        *(
            _tile(platform_label(p), str(summary.per_platform.get(str(p), 0)), "deliveries", str(p))
            for p in Platform
        ),
        _tile("Busiest account", str(summary.busiest_account_day), "posts in one local day"),
        _tile(
            "Estimated X cost",
            f"${summary.x_cost}",
            f"{summary.x_posts} posts ({summary.x_posts_with_url} with a URL) at "
            f"${pricing.per_post} / ${pricing.per_url_post} with URL",
            "cost",
        ),
    ]
    return "".join(tiles)


def _tile(label: str, value: str, note: str, style: str = "") -> str:
    return (
        f'<div class="tile {style}"><span class="tile-label">{escape(label)}</span>'
        f'<span class="tile-value">{escape(value)}</span>'
        f'<span class="tile-note">{escape(note)}</span></div>'
    )


def _account_day_table(
    plan: Plan, summary: Summary, columns: list[_Column], days: list[dt.date]
) -> str:
    head = "".join(
        f'<th title="{day:%a %d %b %Y}">{escape(_day_name(plan, day))}<br>'
        f"<small>{day:%d %b}</small></th>"
        for day in days
    )
    rows = "".join(
        _account_day_row(f"{column.embassy}/{platform}", handle, summary, days)
        for column in columns
        for platform, handle in column.accounts
    )
    return (
        f'<details class="per-day"><summary>Posts per account per day (busiest: '
        f"{summary.busiest_account_day})</summary>"
        f'<div class="scroll"><table class="heat"><thead><tr><th>Account</th>{head}</tr>'
        f"</thead><tbody>{rows}</tbody></table></div></details>"
    )


def _account_day_row(account: str, handle: str, summary: Summary, days: list[dt.date]) -> str:
    cells = []
    for day in days:
        count = summary.per_account_day.get((account, day), 0)
        heat = min(count, 4)
        busiest = " busiest" if count and count == summary.busiest_account_day else ""
        cells.append(f'<td class="h{heat}{busiest}">{count or ""}</td>')
    return (
        f'<tr><th><code>{escape(account)}</code> <small dir="auto">{escape(handle)}</small></th>'
        f"{''.join(cells)}</tr>\n"
    )


def _problems_section(problems: list[Problem]) -> str:
    shown = [problem for problem in problems if problem.severity is not Severity.NOTICE]
    if not shown:
        return '<p class="all-clear">✓ No errors or warnings in the campaign file.</p>'
    errors = sum(1 for problem in shown if problem.is_error)
    items = "".join(_problem_item(problem) for problem in shown)
    return (
        f'<details class="all-problems"><summary>{errors} error{"s" * (errors != 1)}, '
        f"{len(shown) - errors} warning{'s' * (len(shown) - errors != 1)} in the campaign file"
        f'</summary><ul class="problems">{items}</ul></details>'
    )


def _problem_item(problem: Problem) -> str:
    where = Path(problem.file).name if problem.file else "campaign"
    if problem.line is not None:
        where += f":{problem.line}"
    expected = f" <em>Expected {escape(problem.expected)}.</em>" if problem.expected else ""
    return (
        f'<li class="{problem.severity}"><code>{escape(where)}</code> '
        f"<code>{escape(format_path(problem.path))}</code> {escape(problem.message)}"
        f"{expected}</li>"
    )


# --- the calendar ------------------------------------------------------------------------------


def _calendar(
    plan: Plan,
    deliveries: list[Delivery],
    columns: list[_Column],
    days: list[dt.date],
    context: _Context,
    layout: str,
) -> str:
    if not columns:
        return '<p class="empty-plan">No deliveries match this preview.</p>'
    cells: dict[tuple[dt.date, str], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        cells[(delivery.local_time.date(), delivery.embassy_id)].append(delivery)
    rows = "".join(_day_row(plan, day, columns, cells, context) for day in days)
    return (
        f'<section class="calendar-wrap {layout}" id="calendar"><table class="calendar">'
        f"<thead><tr>{_corner()}{''.join(_column_head(c) for c in columns)}</tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _corner() -> str:
    return '<th class="corner">Local day<br><small>embassies east → west</small></th>'


def _column_head(column: _Column) -> str:
    accounts = "".join(
        f'<span class="acct p-{platform}" title="{escape(platform_label(platform))}" dir="auto">'
        f"{escape(handle)}</span>"
        for platform, handle in column.accounts
    )
    return (
        f'<th class="embassy" data-col="{escape(column.embassy)}">'
        f'<span class="emb-id">{escape(column.embassy)}</span>'
        f'<span class="emb-tz">{escape(column.timezone)} · {escape(column.offsets)}</span>'
        f'<span class="emb-accts">{accounts}</span>'
        f'<span class="emb-count">{column.posts} deliveries</span></th>'
    )


def _day_row(
    plan: Plan,
    day: dt.date,
    columns: list[_Column],
    cells: dict[tuple[dt.date, str], list[Delivery]],
    context: _Context,
) -> str:
    outside = " outside" if not plan.window_start <= day <= plan.window_end else ""
    weekend = " weekend" if day.weekday() >= 5 else ""
    label = (
        f'<th class="day{outside}{weekend}" id="d{day:%Y%m%d}">'
        f'<div class="day-inner"><span class="day-n">{escape(_day_name(plan, day))}</span>'
        f'<span class="day-date">{day:%a %d %b}</span></div></th>'
    )
    cards = "".join(
        f'<td data-col="{escape(c.embassy)}">{_cell(cells.get((day, c.embassy), []), context)}</td>'
        for c in columns
    )
    return f"<tr>{label}{cards}</tr>\n"


def _cell(items: list[Delivery], context: _Context) -> str:
    if not items:
        return '<span class="none">&ndash;</span>'
    ordered = sorted(
        items,
        key=lambda d: (d.local_time, PLATFORM_ORDER[d.platform], d.post_id, d.part),
    )
    groups = groupby(ordered, key=lambda d: (d.local_time, d.platform, d.post_id))
    return "".join(_post(list(group), context) for _, group in groups)


def _post(parts: list[Delivery], context: _Context) -> str:
    """One post, or the parts of one thread drawn together and joined by a line."""
    first = parts[0]
    warned = any(_inline_problems(part, context) for part in parts)
    attributes = (
        f'data-platform="{first.platform}" data-embassy="{escape(first.embassy_id)}"'
        f"{' data-warn' if warned else ''}"
    )
    cards = "".join(_card(part, context) for part in parts)
    if len(parts) == 1 and first.parts == 1:
        return f'<div class="post" {attributes}>{cards}</div>'
    return (
        f'<div class="post thread p-{first.platform}" {attributes}>'
        f'<div class="thread-label">Thread · {first.parts} posts</div>{cards}</div>'
    )


# --- one card ----------------------------------------------------------------------------------


def _card(delivery: Delivery, context: _Context) -> str:
    problems = _inline_problems(delivery, context)
    body = _rich_text(delivery.text) + _figures(delivery, context.media)
    if delivery.content_warning:
        body = (
            f'<details class="cw"><summary><span class="cw-text" dir="auto">'
            f"{escape(delivery.content_warning)}</span>"
            f'<span class="cw-more"></span></summary>{body}</details>'
        )
    warned = " warned" if problems else ""
    return (
        f'<article class="card p-{delivery.platform}{warned}" id="{escape(_anchor(delivery))}">'
        f"{_card_head(delivery)}{body}{_card_foot(delivery, context.source)}"
        f"{_warnings(problems)}</article>\n"
    )


def _anchor(delivery: Delivery) -> str:
    # '_' rather than '-' for '/': credentials are often named 'embassy-platform', and a
    # search of the page for a credentials name should find nothing at all.
    return "c-" + re.sub(r"[^A-Za-z0-9_-]", "_", delivery.id)


def _card_head(delivery: Delivery) -> str:
    handle = _handle(delivery)
    initial = handle.lstrip("@")[:1].upper() or "?"
    part = (
        f' <span class="part">{delivery.part}/{delivery.parts}</span>' if delivery.parts > 1 else ""
    )
    return (
        f'<header class="card-head"><span class="avatar" aria-hidden="true">'
        f'{escape(initial)}</span><span class="who"><span class="top">'
        f'<span class="handle" dir="auto">{escape(handle)}</span>'
        f'<span class="plat">{escape(platform_label(delivery.platform))}</span></span>'
        f'<span class="when">{_when(delivery)}{part}</span></span></header>'
    )


def _when(delivery: Delivery) -> str:
    tz = zone(delivery.timezone)
    local_zone = delivery.timezone
    if tz is not None:
        name = delivery.due_at.astimezone(tz).tzname() or ""
        # Zones without a letter abbreviation report '+0545'; the offset reads better.
        local_zone = name if name[:1].isalpha() else utc_offset_label(delivery.due_at, tz)
    utc = f"{delivery.due_at:%H:%M} UTC"
    if delivery.due_at.date() != delivery.local_time.date():
        utc += f" ({delivery.due_at:%d %b})"
    return (
        f'<time title="{escape(delivery.timezone)}">{delivery.local_time:%H:%M} '
        f'{escape(local_zone)}</time> · <time datetime="{delivery.due_at:%Y-%m-%dT%H:%MZ}">'
        f"{escape(utc)}</time>"
    )


def _rich_text(text: str) -> str:
    """The text, escaped, with links, hashtags and mentions set apart as on the platforms."""
    out: list[str] = []
    position = 0
    for match in _TOKENS.finditer(text):
        out.append(escape(text[position : match.start()]))
        kind = match.lastgroup or "url"
        out.append(f'<span class="{kind}">{escape(match.group())}</span>')
        position = match.end()
    out.append(escape(text[position:]))
    return f'<p class="text" dir="auto">{"".join(out)}</p>'


def _figures(delivery: Delivery, catalog: _Media) -> str:
    media = delivery.media
    if not media:
        return ""
    figures = "".join(_figure(item, catalog, delivery) for item in media)
    return f'<div class="media n{min(len(media), 4)}">{figures}</div>'


def _figure(attachment: Attachment, catalog: _Media, delivery: Delivery) -> str:
    if catalog.has(attachment):
        # Alt texts are in the page once, in the media map (a campaign repeats each one on
        # hundreds of cards): the script that shows the image writes it in the caption and as
        # the image's alt.
        picture = (
            f'<img data-media="{media_key(attachment)}" alt="" '
            f'width="{attachment.width}" height="{attachment.height}">'
        )
    else:
        picture = f'<div class="missing">{escape(attachment.file)} cannot be read</div>'
    return (
        f'<figure>{picture}<figcaption tabindex="0"><span class="alt-text">'
        f"{_alt_label(attachment, delivery.language)} "
        f'<span class="alt-body" dir="auto" data-alt="{alt_key(attachment.alt)}"></span></span>'
        f"<small>{escape(attachment.file)} · {attachment.width}&times;{attachment.height} · "
        f"{attachment.size // 1024} KB · {_alt_count(attachment, delivery)}</small>"
        "</figcaption></figure>"
    )


def _alt_count(attachment: Attachment, delivery: Delivery) -> str:
    limit = CAPABILITIES[delivery.platform].max_alt_text
    over = ' class="over"' if len(attachment.alt) > limit else ""
    return f"<span{over}>alt text {len(attachment.alt)}/{limit}</span>"


def _alt_label(attachment: Attachment, language: str) -> str:
    if attachment.alt_language == language:
        return f"<b>ALT · {escape(language)}</b>"
    # A screen reader will read this alt text with the post's language rules: worth a look.
    return (
        f'<b class="alt-other" title="the post is in {escape(language)}">'
        f"ALT · {escape(attachment.alt_language)}</b>"
    )


def _card_foot(delivery: Delivery, source: SourceMap | None) -> str:
    return (
        f'<footer class="card-foot"><span class="badge lang">'
        f"{escape(delivery.language.upper())}</span>{_audience(delivery)}"
        f"{_source_line(delivery, source)}{_count(delivery)}</footer>"
    )


def _audience(delivery: Delivery) -> str:
    """Visibility and reply controls, marked as ignored where the platform has no such setting."""
    capabilities = CAPABILITIES[delivery.platform]
    badges = []
    if capabilities.visibility:
        badges.append(_badge(_VISIBILITY[delivery.visibility], f"v-{delivery.visibility}"))
    elif delivery.visibility is not Visibility.PUBLIC:
        badges.append(_badge(f"Always public on {capabilities.label}", "ignored"))
    if capabilities.reply_controls:
        badges.append(_badge(_REPLIES[delivery.replies], f"r-{delivery.replies}"))
    elif delivery.replies is not Replies.EVERYONE:
        badges.append(_badge(f"Replies stay open on {capabilities.label}", "ignored"))
    return "".join(badges)


def _badge(label: str, style: str) -> str:
    return f'<span class="badge {style}">{escape(label)}</span>'


def _source_line(delivery: Delivery, source: SourceMap | None) -> str:
    found = source.position(delivery.source) if source is not None else None
    if source is None or found is None:
        return ""
    where = f"{Path(source.file).name}:{found[0] + 1}"
    return (
        f'<span class="src" title="{escape(format_path(delivery.source))}">{escape(where)}</span>'
    )


def _count(delivery: Delivery) -> str:
    over = delivery.too_long() is not None
    share = min(delivery.length * 100 // max(delivery.limit, 1), 100)
    return (
        f'<span class="count{" over" if over else ""}">'
        f'<span class="meter"><span style="width:{share}%"></span></span>'
        f"{delivery.length}/{delivery.limit}</span>"
    )


def _inline_problems(delivery: Delivery, context: _Context) -> list[Problem]:
    found = [p for p in context.inline.get(delivery.source, []) if _concerns(p, delivery)]
    over = delivery.too_long()
    if over is not None:
        # The file's check names only the longest copy per platform; each card states its own.
        label = platform_label(delivery.platform)
        message = f"{delivery.length} characters: {label} takes {over.expected}"
        found.insert(0, error("too-long", delivery.source, message))
    return found


def _concerns(problem: Problem, delivery: Delivery) -> bool:
    """Problems are keyed by the text they are about, which every platform shares; these two
    are about one platform's copy, so they stay off the other platforms' cards."""
    if problem.code == "too-long":
        return False  # stated per card, from the card's own count
    if problem.code == "identical-x-text":
        return delivery.platform is Platform.X
    return True


def _warnings(problems: list[Problem]) -> str:
    if not problems:
        return ""
    items = "".join(
        f'<li class="{problem.severity}">{escape(problem.message)}</li>' for problem in problems
    )
    return f'<ul class="card-problems">{items}</ul>'


# --- page skeleton -----------------------------------------------------------------------------

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>$title</title>
<style>$css</style>
</head>
<body>
$body
<script type="application/json" id="media">$media</script>
<script>$script</script>
</body>
</html>
"""
)

_CSS = """
:root{--x:#0f1419;--mastodon:#6364ff;--bluesky:#1185fe;--ink:#1f2328;--muted:#59636e;
--line:#d1d9e0;--bg:#f3f4f6;--card:#fff;--warn:#9a6700;--warn-bg:#fff8c5;--err:#cf222e;
--err-bg:#ffebe9;--accent:#e8590c;--col:280px}
*{box-sizing:border-box}
html,body{margin:0}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
"Noto Sans","Hiragino Sans","Yu Gothic","Microsoft YaHei","Noto Sans CJK JP",sans-serif;
color:var(--ink);background:var(--bg)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h1,h2{margin:0}
.masthead{display:flex;justify-content:space-between;align-items:center;gap:16px;
padding:14px 24px;background:#16181d;color:#fff;border-bottom:4px solid var(--accent)}
.masthead h1{font-size:20px;font-weight:650}
.masthead .sub{margin:2px 0 0;color:#c9ced6}
.masthead code{color:#ffd8a8}
.dry{margin:0;padding:4px 12px;border:1px solid var(--accent);border-radius:999px;
color:#ffc078;font-weight:600;white-space:nowrap}
.toolbar{position:sticky;top:0;z-index:20;display:flex;flex-wrap:wrap;align-items:center;
gap:6px 18px;padding:8px 24px;background:#fff;border-bottom:1px solid var(--line);
box-shadow:0 1px 3px rgba(0,0,0,.06)}
.toolbar fieldset{display:flex;flex-wrap:wrap;align-items:center;gap:4px;border:0;margin:0;
padding:0}
.toolbar legend{float:left;margin-right:6px;color:var(--muted);font-size:12px;font-weight:600;
text-transform:uppercase;letter-spacing:.04em}
.toolbar button{font:inherit;font-size:12px;border:1px solid var(--line);background:#f6f8fa;
border-radius:6px;padding:1px 8px;cursor:pointer}
.chip{display:inline-flex;align-items:center;gap:4px;padding:1px 9px 1px 5px;
border:1px solid var(--line);border-radius:999px;font-size:12px;cursor:pointer;
background:#fff;user-select:none}
.chip input{margin:0;accent-color:var(--ink)}
.chip-x input{accent-color:var(--x)}
.chip-mastodon input{accent-color:var(--mastodon)}
.chip-bluesky input{accent-color:var(--bluesky)}
.chip-w input{accent-color:var(--warn)}
.toolbar .embassies{order:3;flex-basis:100%}
.shown{order:2;margin-left:auto;color:var(--muted);font-size:12px}
.summary{padding:16px 24px 4px}
.summary h2,.calendar-title{font-size:13px;text-transform:uppercase;letter-spacing:.05em;
color:var(--muted)}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.tile{display:flex;flex-direction:column;min-width:150px;padding:10px 14px;background:#fff;
border:1px solid var(--line);border-radius:10px;border-top:3px solid #8c959f}
.tile.x{border-top-color:var(--x)}
.tile.mastodon{border-top-color:var(--mastodon)}
.tile.bluesky{border-top-color:var(--bluesky)}
.tile.cost{border-top-color:var(--accent)}
.tile-label{font-size:12px;color:var(--muted);font-weight:600}
.tile-value{font-size:24px;font-weight:700;line-height:1.2}
.tile-note{font-size:11px;color:var(--muted)}
details>summary{cursor:pointer}
.per-day,.all-problems{margin:8px 0;background:#fff;border:1px solid var(--line);
border-radius:10px;padding:8px 14px}
.per-day>summary,.all-problems>summary{font-weight:600}
.all-problems{margin:8px 24px}
.all-clear{margin:4px 24px 8px;color:#1a7f37;font-weight:600}
.scroll{overflow:auto;max-height:420px;margin-top:8px}
.heat{border-collapse:collapse;font-size:12px}
.heat th,.heat td{border:1px solid #eaeef2;padding:2px 6px;text-align:center;
white-space:nowrap}
.heat thead th{position:sticky;top:0;background:#f6f8fa}
.heat tbody th{text-align:left;font-weight:400}
.heat td.h1{background:#fff4e6}.heat td.h2{background:#ffd8a8}.heat td.h3{background:#ffa94d}
.heat td.h4{background:#fd7e14;color:#fff}
.heat td.busiest{font-weight:700;outline:2px solid var(--ink);outline-offset:-2px}
.problems{margin:8px 0 4px;padding:0;list-style:none}
.problems li{padding:4px 8px;margin:2px 0;border-radius:6px}
.problems li code{color:var(--muted);margin-right:4px}
li.warning{background:var(--warn-bg);color:#4d2d00}
li.error{background:var(--err-bg);color:#82071e}
.calendar-wrap{margin:8px 0 0;overflow:auto;max-height:calc(100vh - var(--bar,48px));
border-top:1px solid var(--line);background:var(--bg)}
.calendar{border-collapse:separate;border-spacing:0}
.calendar thead th{position:sticky;top:0;z-index:10;background:#fff;text-align:left;
vertical-align:top;border-bottom:1px solid var(--line);border-right:1px solid #eaeef2;
padding:8px 10px}
.calendar th.corner{left:0;z-index:12;min-width:96px;font-size:12px;color:var(--muted)}
.calendar th.embassy{min-width:var(--col);max-width:var(--col);width:var(--col)}
.emb-id{display:block;font-size:15px;font-weight:700}
.emb-tz{display:block;font-size:12px;color:var(--muted)}
.emb-accts{display:flex;flex-wrap:wrap;gap:3px;margin-top:4px}
.acct{font-size:11px;font-weight:500;padding:0 6px;border-radius:4px;color:#fff;
max-width:100%;overflow-wrap:anywhere}
.emb-count{display:block;margin-top:3px;font-size:11px;color:var(--muted);font-weight:400}
.calendar tbody th.day{position:sticky;left:0;z-index:5;background:#fff;text-align:left;
vertical-align:top;padding:10px;border-right:1px solid var(--line);
border-bottom:1px solid var(--line)}
.day-n{display:block;font-size:15px;font-weight:700}
.day-inner{position:sticky;top:var(--head,100px)}
.day-date{display:block;font-size:12px;color:var(--muted);white-space:nowrap}
th.day.weekend .day-date{color:var(--accent)}
th.day.outside{background:#fff4e6}
.calendar td{vertical-align:top;padding:8px;border-right:1px solid #e4e7eb;
border-bottom:1px solid var(--line);min-width:var(--col);max-width:var(--col);
width:var(--col)}
.none{display:block;text-align:center;color:#afb8c1;padding:6px}
.post+.post{margin-top:8px}
.thread{position:relative;padding:4px 4px 4px 0}
.thread::before{content:"";position:absolute;left:21px;top:36px;bottom:36px;width:2px;
background:var(--pc,#8c959f)}
.thread .card+.card{margin-top:10px}
.thread-label{font-size:11px;font-weight:600;color:var(--muted);margin:0 0 4px 2px}
.p-x{--pc:var(--x)}.p-mastodon{--pc:var(--mastodon)}.p-bluesky{--pc:var(--bluesky)}
.acct.p-x{background:var(--x)}.acct.p-mastodon{background:var(--mastodon)}
.acct.p-bluesky{background:var(--bluesky)}
.card{position:relative;background:var(--card);border:1px solid var(--line);
border-radius:12px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.05);
border-top:3px solid var(--pc)}
.card.warned{box-shadow:0 0 0 1px #e3b341 inset,0 1px 2px rgba(0,0,0,.05)}
.card.p-mastodon{border-radius:8px;background:#fcfcff}
.card-head{display:flex;align-items:flex-start;gap:8px}
.avatar{flex:none;display:grid;place-items:center;width:34px;height:34px;border-radius:50%;
background:var(--pc);color:#fff;font-weight:700;font-size:15px}
.card.p-mastodon .avatar{border-radius:8px}
.who{display:flex;flex-direction:column;min-width:0;flex:1}
.top{display:flex;align-items:flex-start;gap:6px;min-width:0}
.handle{flex:1 1 auto;min-width:0;font-weight:700;overflow-wrap:anywhere}
.when{font-size:12px;color:var(--muted)}
.part{margin-left:2px;font-size:10px;font-weight:700;padding:0 6px;border-radius:999px;
background:var(--pc);color:#fff}
.plat{flex:none;font-size:11px;font-weight:700;color:var(--pc);border:1px solid var(--pc);
padding:0 6px;border-radius:4px}
.text{margin:8px 0 6px;white-space:pre-wrap;overflow-wrap:anywhere}
.url{color:var(--bluesky)}
.card.p-x .url,.card.p-x .tag,.card.p-x .mention{color:#1d9bf0}
.card.p-mastodon .url,.card.p-mastodon .tag,.card.p-mastodon .mention{color:#563acc}
.tag,.mention{color:var(--bluesky);font-weight:500}
.cw{margin-top:8px}
.cw>summary{list-style:none;display:flex;align-items:center;justify-content:space-between;
gap:8px;padding:6px 8px;background:#eef0ff;border-radius:6px}
.cw>summary::-webkit-details-marker{display:none}
.cw-text{flex:1;font-weight:600}
.cw-text::before{content:"CW ";font-size:10px;font-weight:800;color:var(--mastodon)}
.cw-more::before{content:"Show more";white-space:nowrap;font-size:11px;font-weight:700;
text-transform:uppercase;padding:2px 6px;border-radius:4px;background:var(--mastodon);color:#fff}
.cw[open] .cw-more::before{content:"Show less"}
.media{display:grid;gap:4px;margin:6px 0}
.media.n2,.media.n3,.media.n4{grid-template-columns:1fr 1fr}
figure{position:relative;margin:0}
figure img,.missing{display:block;width:100%;height:auto;max-height:240px;object-fit:cover;
border-radius:10px;border:1px solid #e4e7eb;background:#eaeef2}
figure img{max-height:180px}
.missing{padding:30px 10px;text-align:center;color:var(--err);font-size:12px}
figure::before{content:"ALT";position:absolute;left:6px;top:6px;padding:0 5px;
border-radius:4px;background:rgba(0,0,0,.75);color:#fff;font-size:10px;font-weight:800;
letter-spacing:.03em}
figcaption{margin-top:4px;padding:4px 6px;font-size:12px;color:#3d444d;background:#f6f8fa;
border-radius:6px}
figcaption b{font-size:10px;color:var(--muted);margin-right:2px}
figcaption b.alt-other{padding:0 4px;border-radius:3px;background:var(--warn-bg);color:var(--warn)}
figcaption small{display:block;color:var(--muted);font-size:10px}
figcaption small .over{color:var(--err);font-weight:700}
.alt-text{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;line-clamp:3;
overflow:hidden}
figcaption:hover .alt-text,figcaption:focus .alt-text{-webkit-line-clamp:unset;line-clamp:none}
figcaption:focus{outline:2px solid var(--pc)}
.card-foot{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-top:6px}
.badge{font-size:11px;padding:0 6px;border-radius:4px;background:#eff2f5;color:#3d444d;
white-space:nowrap}
.badge.lang{font-weight:700;background:#ddf4ff;color:#0550ae}
.badge.v-unlisted,.badge.v-private,.badge.r-following,.badge.r-mentioned{background:#fbefff;
color:#6e40c9}
.badge.ignored{background:#fff8c5;color:var(--warn)}
.badge.ignored::before{content:"⚠ "}
.src{font-size:11px;color:var(--muted)}
.count{margin-left:auto;display:inline-flex;align-items:center;gap:5px;font-size:12px;
font-weight:600;color:#1a7f37;font-variant-numeric:tabular-nums}
.meter{display:inline-block;width:36px;height:4px;border-radius:2px;background:#e4e7eb;
overflow:hidden}
.meter span{display:block;height:100%;background:currentColor}
.count.over{color:var(--err)}
.count.over::before{content:"Too long";font-size:10px;font-weight:800;text-transform:uppercase;
padding:0 4px;border-radius:3px;background:var(--err);color:#fff}
.card-problems{margin:6px 0 0;padding:0;list-style:none;font-size:12px}
.card-problems li{padding:3px 6px 3px 22px;border-radius:6px;margin-top:3px;position:relative}
.card-problems li::before{content:"⚠";position:absolute;left:6px}
.card-problems li.error::before{content:"✖"}
[hidden]{display:none!important}
.empty-plan{padding:24px;color:var(--muted)}
.legend{margin:0 0 4px;font-size:12px;color:var(--muted)}
.by-day .calendar,.by-day .calendar tbody{display:block}
.by-day .calendar thead{display:none}
.by-day .calendar tbody tr{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));
gap:8px;padding:0 12px 12px}
.by-day .calendar tbody th.day{grid-column:1/-1;position:sticky;top:0;z-index:5;
border-right:0;margin:0 -12px;padding:8px 24px}
.by-day .day-inner{position:static;display:flex;gap:10px;align-items:baseline}
.by-day .calendar td{display:block;min-width:0;max-width:none;width:auto;border:1px solid #e4e7eb;
border-radius:8px;background:#f9fafb}
.by-day .calendar td::before{content:attr(data-col);display:block;margin:0 0 6px;
font-size:13px;font-weight:700}
@media print{.toolbar{display:none}.calendar-wrap{max-height:none;overflow:visible}
.alt-text{-webkit-line-clamp:unset;line-clamp:none}}
"""

# Images first, filters second: without script the page still reads, minus images, their alt
# texts and the filters.
_SCRIPT = """
(function () {
  "use strict";
  var media = JSON.parse(document.getElementById("media").textContent);
  document.querySelectorAll("[data-alt]").forEach(function (caption) {
    var alt = media.alts[caption.getAttribute("data-alt")] || "";
    var img = caption.closest("figure").querySelector("img");
    caption.textContent = alt;
    if (img) { img.alt = alt; }
  });
  document.querySelectorAll("img[data-media]").forEach(function (img) {
    var uri = media.images[img.getAttribute("data-media")];
    if (uri) { img.src = uri; }
  });
  var form = document.getElementById("filters");
  // The calendar scrolls inside the viewport below the sticky filters, and each day's label
  // stays under the embassy headers; both heights depend on wrapping, so they are measured.
  function measure() {
    var root = document.documentElement.style, head = document.querySelector(".calendar thead");
    root.setProperty("--bar", form.offsetHeight + "px");
    if (head) { root.setProperty("--head", head.offsetHeight + 8 + "px"); }
  }
  window.addEventListener("resize", measure);
  function checked(name) {
    var values = {};
    form.querySelectorAll("input[name=" + name + "]:checked").forEach(function (box) {
      values[box.value] = true;
    });
    return values;
  }
  function layout() {
    var chosen = form.querySelector("input[name=layout]:checked");
    var calendar = document.getElementById("calendar");
    if (chosen && calendar) {
      calendar.classList.toggle("by-day", chosen.value === "by-day");
      calendar.classList.toggle("grid", chosen.value === "grid");
    }
  }
  function apply() {
    var platforms = checked("platform"), embassies = checked("embassy");
    var onlyWarned = form.querySelector("input[name=warnings]").checked, shown = 0;
    document.querySelectorAll(".post").forEach(function (post) {
      var visible = platforms[post.dataset.platform] && embassies[post.dataset.embassy] &&
        (!onlyWarned || post.hasAttribute("data-warn"));
      post.hidden = !visible;
      if (visible) { shown += post.querySelectorAll(".card").length; }
    });
    document.querySelectorAll("[data-col]").forEach(function (cell) {
      cell.hidden = !embassies[cell.dataset.col];
    });
    document.getElementById("shown").textContent = shown + " deliveries shown";
  }
  form.addEventListener("change", function () { layout(); apply(); measure(); });
  form.querySelectorAll("button[data-all], button[data-none]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.dataset.all || button.dataset.none;
      form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
        box.checked = Boolean(button.dataset.all);
      });
      apply();
    });
  });
  apply();
  measure();
})();
"""
