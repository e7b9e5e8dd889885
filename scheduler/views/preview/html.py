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

This module prepares what each part of the page shows; ``templates/preview.html`` draws it, with
``static/preview.css`` and ``static/preview.js`` inlined. The page is a pure function of its
inputs, with no generation time, so tests can compare it byte for byte. Every text from the
campaign file is escaped (the templates escape whatever they print); credentials names never
appear.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup

from adapters.capabilities import CAPABILITIES, Platform
from scheduler.campaign.model import Replies, Visibility
from scheduler.campaign.planner import PLATFORM_ORDER, Attachment, Delivery, Plan
from scheduler.campaign.sourcemap import SourceMap
from scheduler.campaign.timing import utc_offset_label, zone
from scheduler.problems import FieldPath, Problem, Severity, error, format_path
from scheduler.views import pages
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
    shown_problems = [_Listed.of(p) for p in problems if p.severity is not Severity.NOTICE]
    return pages.render(
        "preview.html",
        plan=plan,
        summary=summary,
        platforms=[_PlatformView.of(platform) for platform in Platform],
        labels={platform: platform_label(platform) for platform in Platform},
        columns=columns,
        layout=_default_layout(columns),
        days=shown_days,
        heat_rows=_heat_rows(summary, columns, shown_days),
        day_rows=_day_rows(plan, deliveries, columns, shown_days, context),
        shown_problems=shown_problems,
        errors=sum(1 for item in shown_problems if item.problem.is_error),
        media={"images": media.data, "alts": media.alts},
    )


def render_cards(deliveries: Sequence[Delivery], images: Mapping[str, str]) -> Markup:
    """The preview's cards of ``deliveries`` as a fragment of a page, each post (or thread) drawn
    as the preview draws it. ``images`` maps an image's sha256 to its address (the web
    dashboard's ``/media/{sha256}``); an image without one is said to be unreadable. The
    fragment needs the preview's style sheet and no script: alt texts are in the cards."""
    context = _Context(_Media({}, {}), {}, None, images)
    by_embassy: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in sorted(deliveries, key=lambda d: (d.due_at, d.embassy_id)):
        by_embassy[delivery.embassy_id].append(delivery)
    # One embassy at a time, as in the preview's cells: the parts of a thread group by local time.
    posts = [post for items in by_embassy.values() for post in _posts(items, context)]
    return Markup(pages.render("post_cards.html", posts=posts))


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
    sources: Mapping[str, str] = field(default_factory=dict)
    """Image sha256 -> address, where the page links its images (see ``render_cards``)."""


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


def _handle(delivery: Delivery) -> str:
    handle = "@" + delivery.account.lstrip("@")
    if delivery.platform is Platform.MASTODON and delivery.instance and handle.count("@") == 1:
        host = urlsplit(delivery.instance).hostname
        return f"{handle}@{host}" if host else handle
    return handle


# --- what the template draws ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PlatformView:
    value: str
    label: str
    length_rule: str

    @classmethod
    def of(cls, platform: Platform) -> _PlatformView:
        return cls(str(platform), platform_label(platform), CAPABILITIES[platform].length_rule)


@dataclass(frozen=True, slots=True)
class _HeatRow:
    """One account's posts per shown day."""

    account: str
    handle: str
    counts: list[int]


def _heat_rows(summary: Summary, columns: list[_Column], days: list[dt.date]) -> list[_HeatRow]:
    rows = []
    for column in columns:
        for platform, handle in column.accounts:
            account = f"{column.embassy}/{platform}"
            counts = [summary.per_account_day.get((account, day), 0) for day in days]
            rows.append(_HeatRow(account, handle, counts))
    return rows


@dataclass(frozen=True, slots=True)
class _Listed:
    """A problem in the list at the top: where it is, and the field it is about."""

    problem: Problem
    where: str
    path: str

    @classmethod
    def of(cls, problem: Problem) -> _Listed:
        where = Path(problem.file).name if problem.file else "campaign"
        if problem.line is not None:
            where += f":{problem.line}"
        return cls(problem, where, format_path(problem.path))


@dataclass(frozen=True, slots=True)
class _Figure:
    attachment: Attachment
    shown: bool
    """False when the file cannot be read: the card says so instead."""
    media_key: str
    alt_key: str
    language: str
    """The post's language, which a screen reader will read the alt text with."""
    alt_language_matches: bool
    alt_limit: int
    alt_over: bool
    src: str | None = None
    """The image's address, for a page that links images rather than embedding them (the web
    dashboard's cards): the card then carries the alt text itself."""


@dataclass(frozen=True, slots=True)
class _Card:
    delivery: Delivery
    anchor: str
    handle: str
    initial: str
    platform_label: str
    local_zone: str
    utc_time: str
    tokens: list[tuple[str, str]]
    """The text in runs: (kind, run), kind being "url", "tag", "mention" or "" for plain."""
    figures: list[_Figure]
    badges: list[tuple[str, str]]
    """(label, style) of the audience badges."""
    source_line: str
    source_path: str
    over: bool
    share: int
    """Percent of the limit used, at most 100."""
    problems: list[Problem]


@dataclass(frozen=True, slots=True)
class _Post:
    """One post, or the parts of one thread drawn together and joined by a line."""

    cards: list[_Card]
    thread: bool
    warned: bool


@dataclass(frozen=True, slots=True)
class _Cell:
    embassy: str
    posts: list[_Post]


@dataclass(frozen=True, slots=True)
class _DayRow:
    day: dt.date
    outside: bool
    """Outside the campaign's window: a post falls on it in some embassy's local time."""
    cells: list[_Cell]


def _day_rows(
    plan: Plan,
    deliveries: list[Delivery],
    columns: list[_Column],
    days: list[dt.date],
    context: _Context,
) -> list[_DayRow]:
    cells: dict[tuple[dt.date, str], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        cells[(delivery.local_time.date(), delivery.embassy_id)].append(delivery)
    return [
        _DayRow(
            day,
            not plan.window_start <= day <= plan.window_end,
            [_Cell(c.embassy, _posts(cells.get((day, c.embassy), []), context)) for c in columns],
        )
        for day in days
    ]


def _posts(items: list[Delivery], context: _Context) -> list[_Post]:
    ordered = sorted(
        items,
        key=lambda d: (d.local_time, PLATFORM_ORDER[d.platform], d.post_id, d.part),
    )
    groups = groupby(ordered, key=lambda d: (d.local_time, d.platform, d.post_id))
    posts = []
    for _, group in groups:
        cards = [_card(part, context) for part in group]
        thread = len(cards) > 1 or cards[0].delivery.parts > 1
        posts.append(_Post(cards, thread, any(card.problems for card in cards)))
    return posts


def _card(delivery: Delivery, context: _Context) -> _Card:
    handle = _handle(delivery)
    source_line, source_path = _source(delivery, context.source)
    return _Card(
        delivery=delivery,
        anchor=_anchor(delivery),
        handle=handle,
        initial=handle.lstrip("@")[:1].upper() or "?",
        platform_label=platform_label(delivery.platform),
        local_zone=_local_zone(delivery),
        utc_time=_utc_time(delivery),
        tokens=_tokens(delivery.text),
        figures=[
            _figure(item, context.media, delivery, context.sources.get(item.sha256))
            for item in delivery.media
        ],
        badges=_audience(delivery),
        source_line=source_line,
        source_path=source_path,
        over=delivery.too_long() is not None,
        share=min(delivery.length * 100 // max(delivery.limit, 1), 100),
        problems=_inline_problems(delivery, context),
    )


def _anchor(delivery: Delivery) -> str:
    # '_' rather than '-' for '/': credentials are often named 'embassy-platform', and a
    # search of the page for a credentials name should find nothing at all.
    return "c-" + re.sub(r"[^A-Za-z0-9_-]", "_", delivery.id)


def _local_zone(delivery: Delivery) -> str:
    tz = zone(delivery.timezone)
    if tz is None:
        return delivery.timezone
    name = delivery.due_at.astimezone(tz).tzname() or ""
    # Zones without a letter abbreviation report '+0545'; the offset reads better.
    return name if name[:1].isalpha() else utc_offset_label(delivery.due_at, tz)


def _utc_time(delivery: Delivery) -> str:
    utc = f"{delivery.due_at:%H:%M} UTC"
    if delivery.due_at.date() != delivery.local_time.date():
        utc += f" ({delivery.due_at:%d %b})"
    return utc


def _tokens(text: str) -> list[tuple[str, str]]:
    """The text in runs, with links, hashtags and mentions set apart as on the platforms."""
    runs: list[tuple[str, str]] = []
    position = 0
    for match in _TOKENS.finditer(text):
        runs.append(("", text[position : match.start()]))
        runs.append((match.lastgroup or "url", match.group()))
        position = match.end()
    runs.append(("", text[position:]))
    return runs


def _figure(
    attachment: Attachment, catalog: _Media, delivery: Delivery, src: str | None = None
) -> _Figure:
    limit = CAPABILITIES[delivery.platform].max_alt_text
    return _Figure(
        attachment=attachment,
        shown=catalog.has(attachment),
        media_key=media_key(attachment),
        alt_key=alt_key(attachment.alt),
        language=delivery.language,
        alt_language_matches=attachment.alt_language == delivery.language,
        alt_limit=limit,
        alt_over=len(attachment.alt) > limit,
        src=src,
    )


def _audience(delivery: Delivery) -> list[tuple[str, str]]:
    """Visibility and reply controls, marked as ignored where the platform has no such setting."""
    capabilities = CAPABILITIES[delivery.platform]
    badges = []
    if capabilities.visibility:
        badges.append((_VISIBILITY[delivery.visibility], f"v-{delivery.visibility}"))
    elif delivery.visibility is not Visibility.PUBLIC:
        badges.append((f"Always public on {capabilities.label}", "ignored"))
    if capabilities.reply_controls:
        badges.append((_REPLIES[delivery.replies], f"r-{delivery.replies}"))
    elif delivery.replies is not Replies.EVERYONE:
        badges.append((f"Replies stay open on {capabilities.label}", "ignored"))
    return badges


def _source(delivery: Delivery, source: SourceMap | None) -> tuple[str, str]:
    """Where in the campaign file the post is (``file:line``) and the field's path; empty
    without a source map."""
    found = source.position(delivery.source) if source is not None else None
    if source is None or found is None:
        return "", ""
    return f"{Path(source.file).name}:{found[0] + 1}", format_path(delivery.source)


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
