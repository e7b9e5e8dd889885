"""The report's results: what the platforms counted for each sent delivery, gathered for people
to read (totals, per embassy, platform, language and day, top posts, posts that
under-performed, counts over the time since posting) and flat for spreadsheets.

A metric belongs to its platform: an X impression is not a Mastodon boost, nor an X like a
Bluesky like, so figures are only ever added up within one platform and one metric. A metric a
platform did not give is absent, never 0.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup

from scheduler.store.engagement import RunRecord
from scheduler.store.figures import Reading
from scheduler.store.queries import ReportRow
from scheduler.store.states import DeliveryState
from scheduler.views.reporting import PLATFORM_NAMES, slug, utc
from scheduler.views.reporting.charts import Series, bar_chart, line_chart
from scheduler.views.reporting.collection import LastCollection, Trouble, last_collection

METRICS: dict[str, tuple[str, ...]] = {
    "mastodon": ("favourites", "reblogs", "replies"),
    "bluesky": ("likes", "reposts", "replies", "quotes", "bookmarks"),
    "x": (
        "likes",
        "retweets",
        "replies",
        "quotes",
        "bookmarks",
        "impressions",
        "impressions_private",
        "url_clicks",
        "profile_clicks",
    ),
}
"""Each platform's metrics, the headline first (the one charts and rankings use); any other
metric a platform gives comes after these, in alphabetical order."""


UNDER = 0.25
"""A post under-performed below this share of the median of its platform and metric..."""
UNDER_PEERS = 3
"""...when at least this many posts on that platform have the metric..."""
UNDER_AGE = dt.timedelta(hours=24)
"""...each counted at least this long after it went out (a young post is not judged)."""
TOP = 5
"""Posts listed per platform in the top posts."""

_AGE_BINS = (2.0, 12.0, 36.0, 96.0, 240.0)
"""Hours since posting that separate the points of a curve: figures fetched by the daemon's
default schedule (1 h, 24 h, 7 d) fall one per bin, whatever the delay of each fetch."""
_CURVE_SKIPS = ("impressions",)
"""Metrics of another scale than the others: drawn on their own line they flatten the rest."""


@dataclass(frozen=True, slots=True)
class Measured:
    """A sent delivery with the latest value of each metric its platform gave."""

    row: ReportRow
    counts: Mapping[str, int]
    fetched: Mapping[str, dt.datetime]
    """When each metric's value was fetched."""

    @property
    def fetched_at(self) -> dt.datetime:
        """When the latest of its figures was fetched."""
        return max(self.fetched.values())

    @property
    def metrics(self) -> list[str]:
        """Its metrics, in its platform's order (the headline first)."""
        return sorted(self.counts, key=lambda metric: _metric_rank(self.row.platform, metric))

    @property
    def day(self) -> dt.date:
        """The embassy's own date of sending: the report's days are local."""
        return dt.date.fromisoformat(self.row.local_time[:10])


@dataclass(frozen=True, slots=True)
class Column:
    """A platform's metric: the only thing figures may be added up under."""

    platform: str
    metric: str

    @property
    def title(self) -> str:
        return f"{PLATFORM_NAMES.get(self.platform, self.platform)} {self.metric.replace('_', ' ')}"


@dataclass(frozen=True, slots=True)
class Total:
    column: Column
    value: int
    posts: int
    """How many deliveries gave this metric."""


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One way of splitting the figures (per embassy, language, day): for each group, the sum of
    each platform's metric over the group's deliveries."""

    key: str
    heading: str
    noun: str
    """The group in a chart's title: "Mastodon favourites per <noun>"."""
    groups: list[str]
    values: dict[tuple[str, Column], int]


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A metric on which a delivery fell below a quarter of its platform's median."""

    metric: str
    value: int
    median: float


@dataclass(frozen=True, slots=True)
class Under:
    measured: Measured
    shortfalls: list[Shortfall]


@dataclass(frozen=True)
class Results:
    """Everything the report's results section shows."""

    measured: list[Measured]
    """Sent deliveries with figures, by platform then sending time."""
    unmeasured: int
    """Sent deliveries with no figure yet."""
    columns: list[Column]
    totals: list[Total]
    breakdowns: list[Breakdown]
    top: dict[str, list[Measured]]
    """Per platform, its best deliveries by the headline metric."""
    under: list[Under]
    curves: dict[str, list[tuple[str, list[tuple[float, float]]]]]
    """Per platform, per metric: the median per post at each time since posting (hours)."""
    last: LastCollection | None
    readings: list[tuple[Measured, str, int]] = field(default_factory=list)
    """Every latest figure, one per delivery and metric: the spreadsheets' rows."""

    def measured_of(self, row: ReportRow) -> Measured | None:
        """The figures of a delivery; None if it has none yet."""
        return self._by_key.get(row.key)

    def trouble_of(self, row: ReportRow) -> Trouble | None:
        """What kept the last collection from reading the account of a delivery, if anything."""
        return self._troubles.get((row.embassy_id, row.platform))

    @cached_property
    def _by_key(self) -> dict[str, Measured]:
        return {measured.row.key: measured for measured in self.measured}

    @cached_property
    def _troubles(self) -> dict[tuple[str, str], Trouble]:
        troubles = [] if self.last is None else self.last.troubles
        return {(trouble.embassy, trouble.platform): trouble for trouble in troubles}

    def headline(self, platform: str) -> Column | None:
        """The platform's metric that charts and rankings use, if it gave any."""
        return next((c for c in self.columns if c.platform == platform), None)

    @property
    def platforms(self) -> list[str]:
        return list(dict.fromkeys(column.platform for column in self.columns))

    @property
    def spans(self) -> list[tuple[str, int]]:
        """Each platform and how many of the columns are its metrics, in the columns' order."""
        return [(p, sum(c.platform == p for c in self.columns)) for p in self.platforms]


def gather(
    rows: Sequence[ReportRow], history: Sequence[Reading], last: RunRecord | None = None
) -> Results:
    """The results of the sent deliveries among ``rows``, from every value the platforms gave
    (``history``): the latest of each metric, and the curves after posting."""
    sent = {row.key: row for row in rows if row.state is DeliveryState.SENT}
    measured = _measure(sent, history)
    columns = _columns(measured)
    return Results(
        measured=measured,
        unmeasured=len(sent) - len(measured),
        columns=columns,
        totals=_totals(measured, columns),
        breakdowns=_breakdowns(measured, columns),
        top=_top(measured, columns),
        under=_under(measured, columns),
        curves=_curves(sent, history),
        last=None if last is None else last_collection(last),
        readings=[(m, metric, m.counts[metric]) for m in measured for metric in m.metrics],
    )


def _measure(sent: Mapping[str, ReportRow], history: Iterable[Reading]) -> list[Measured]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    fetched: dict[str, dict[str, dt.datetime]] = defaultdict(dict)
    for reading in history:
        if reading.delivery not in sent:
            continue
        known = fetched[reading.delivery].get(reading.metric)
        if known is None or known <= reading.fetched_at:
            counts[reading.delivery][reading.metric] = reading.value
            fetched[reading.delivery][reading.metric] = reading.fetched_at
    measured = [Measured(sent[key], counts[key], fetched[key]) for key in counts]
    return sorted(measured, key=lambda m: (_platform_rank(m.row.platform), _sent(m), m.row.key))


def _platform_rank(platform: str) -> tuple[int, str]:
    known = list(METRICS)
    return (known.index(platform), "") if platform in known else (len(known), platform)


def _sent(measured: Measured) -> dt.datetime:
    row = measured.row
    return row.platform_sent_at or row.sent_at or row.due_at


def _metric_rank(platform: str, metric: str) -> tuple[int, str]:
    known = METRICS.get(platform, ())
    return (known.index(metric), "") if metric in known else (len(known), metric)


def _columns(measured: Sequence[Measured]) -> list[Column]:
    seen = {Column(m.row.platform, metric) for m in measured for metric in m.counts}
    return sorted(
        seen, key=lambda c: (_platform_rank(c.platform), _metric_rank(c.platform, c.metric))
    )


def _totals(measured: Sequence[Measured], columns: Sequence[Column]) -> list[Total]:
    totals = []
    for column in columns:
        values = _values(measured, column)
        totals.append(Total(column, sum(values), len(values)))
    return totals


def _values(measured: Iterable[Measured], column: Column) -> list[int]:
    return [
        m.counts[column.metric]
        for m in measured
        if m.row.platform == column.platform and column.metric in m.counts
    ]


_DIMENSIONS: tuple[tuple[str, str, str, Callable[[Measured], str]], ...] = (
    ("embassy", "Embassy", "embassy", lambda m: m.row.embassy_id),
    ("language", "Language", "language", lambda m: m.row.language),
    ("day", "Day (the embassy's date)", "day", lambda m: f"{m.day:%a %d %b %Y}"),
)


def _breakdowns(measured: Sequence[Measured], columns: Sequence[Column]) -> list[Breakdown]:
    breakdowns = []
    for key, heading, noun, group_of in _DIMENSIONS:
        ordered = sorted(measured, key=lambda m: m.day) if key == "day" else measured
        groups = list(dict.fromkeys(group_of(m) for m in ordered))
        if key != "day":
            groups.sort()
        values: dict[tuple[str, Column], int] = defaultdict(int)
        for m in measured:
            for metric, value in m.counts.items():
                values[group_of(m), Column(m.row.platform, metric)] += value
        breakdowns.append(Breakdown(key, heading, noun, groups, dict(values)))
    return breakdowns


def _headlines(columns: Sequence[Column]) -> dict[str, str]:
    """Each platform's headline metric: the first of its columns."""
    headlines: dict[str, str] = {}
    for column in columns:
        headlines.setdefault(column.platform, column.metric)
    return headlines


def _top(measured: Sequence[Measured], columns: Sequence[Column]) -> dict[str, list[Measured]]:
    top = {}
    for platform, metric in _headlines(columns).items():
        ranked = [m for m in measured if m.row.platform == platform and metric in m.counts]
        ranked.sort(key=lambda m: (-m.counts[metric], _sent(m), m.row.key))
        top[platform] = ranked[:TOP]
    return top


def _under(measured: Sequence[Measured], columns: Sequence[Column]) -> list[Under]:
    shortfalls: dict[str, list[Shortfall]] = defaultdict(list)
    for column in columns:
        judged = [
            m
            for m in measured
            if m.row.platform == column.platform
            and column.metric in m.counts
            and m.fetched_at - _sent(m) >= UNDER_AGE
        ]
        if len(judged) < UNDER_PEERS:
            continue
        median = statistics.median(m.counts[column.metric] for m in judged)
        for m in judged:
            if m.counts[column.metric] < UNDER * median:
                shortfalls[m.row.key].append(
                    Shortfall(column.metric, m.counts[column.metric], median)
                )
    return [Under(m, shortfalls[m.row.key]) for m in measured if m.row.key in shortfalls]


def _curves(
    sent: Mapping[str, ReportRow], history: Iterable[Reading]
) -> dict[str, list[tuple[str, list[tuple[float, float]]]]]:
    # per platform, metric, bin: each delivery's last value in the bin, and the ages seen
    last: dict[tuple[str, str, int, str], tuple[dt.datetime, int]] = {}
    ages: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for reading in history:
        row = sent.get(reading.delivery)
        if row is None or reading.metric.startswith(_CURVE_SKIPS):
            continue
        hours = (reading.fetched_at - (row.platform_sent_at or row.sent_at or row.due_at)) / (
            dt.timedelta(hours=1)
        )
        if hours < 0:
            continue
        place = sum(hours >= edge for edge in _AGE_BINS)
        key = (row.platform, reading.metric, place, reading.delivery)
        if key not in last or last[key][0] <= reading.fetched_at:
            last[key] = (reading.fetched_at, reading.value)
        ages[row.platform, reading.metric, place].append(hours)
    values: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for (platform, metric, place, _), (_, value) in last.items():
        values[platform, metric, place].append(value)
    return _curve_points(values, ages)


def _curve_points(
    values: Mapping[tuple[str, str, int], list[int]],
    ages: Mapping[tuple[str, str, int], list[float]],
) -> dict[str, list[tuple[str, list[tuple[float, float]]]]]:
    lines: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for key in sorted(values):
        platform, metric, _ = key
        point = (round(statistics.median(ages[key]), 2), statistics.median(values[key]))
        lines[platform, metric].append(point)
    curves: dict[str, list[tuple[str, list[tuple[float, float]]]]] = defaultdict(list)
    for platform, metric in sorted(
        lines, key=lambda pm: (_platform_rank(pm[0]), _metric_rank(*pm))
    ):
        curves[platform].append((metric, lines[platform, metric]))
    return {platform: found[:6] for platform, found in curves.items()}


def reading_record(measured: Measured, metric: str, value: int) -> dict[str, Any]:
    """One delivery's latest value of one metric, flat: a row of the spreadsheets."""
    row = measured.row
    return {
        "delivery": row.key,
        "post": row.post_id,
        "embassy": row.embassy_id,
        "platform": row.platform,
        "account": row.account,
        "language": row.language,
        "sent_at": utc(row.platform_sent_at or row.sent_at),
        "url": row.remote_url,
        "metric": metric,
        "value": value,
        "fetched_at": utc(measured.fetched[metric]),
    }


ENGAGEMENT_COLUMNS = [
    "delivery",
    "post",
    "embassy",
    "platform",
    "account",
    "language",
    "sent_at",
    "url",
    "metric",
    "value",
    "fetched_at",
]


# --- charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charts:
    """The results' charts, drawn: each platform's headline metric per embassy, language and
    day; the posts measured per platform (the one figure the platforms share); the curves."""

    posts: Markup
    breakdowns: dict[str, list[Markup]]
    curves: list[Markup]


def results_charts(results: Results) -> Charts:
    breakdowns = {
        breakdown.key: [
            _breakdown_chart(breakdown, column)
            for column in map(results.headline, results.platforms)
            if column is not None
        ]
        for breakdown in results.breakdowns
    }
    curves = [
        line_chart(
            f"time-{slug(platform)}",
            f"{PLATFORM_NAMES.get(platform, platform)}: the median post over time",
            [Series(metric.replace("_", " "), points) for metric, points in lines],
            value_heading="Per post (median)",
        )
        for platform, lines in results.curves.items()
    ]
    posts = bar_chart(
        "posts-platform",
        "Posts with figures per platform",
        [(PLATFORM_NAMES.get(p, p), _count(results.measured, p)) for p in results.platforms],
        label_heading="Platform",
        value_heading="Posts",
    )
    return Charts(posts, breakdowns, curves)


def _breakdown_chart(breakdown: Breakdown, column: Column) -> Markup:
    bars = [
        (group, breakdown.values[group, column])
        for group in breakdown.groups
        if (group, column) in breakdown.values
    ]
    return bar_chart(
        f"{breakdown.key}-{slug(column.platform)}",
        f"{column.title} per {breakdown.noun}",
        bars,
        label_heading=breakdown.heading,
        value_heading=column.metric.replace("_", " ").capitalize(),
    )


def _count(measured: Iterable[Measured], platform: str) -> int:
    return sum(m.row.platform == platform for m in measured)
