"""`campaign status`: what needs attention first, then the brakes, the retractions, then counts
by state.

The terminal view fits 100 columns: only the states that occur get a column, long keys and
messages wrap inside their cells. The JSON view has a fixed shape (``STATUS_FORMAT``, documented
in docs/cli.md): every state is present in every count, zero or not.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sys
from itertools import groupby
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scheduler.store.queries import (
    STATE_ORDER,
    AccountIssue,
    ActivePause,
    AttentionItem,
    CampaignInfo,
    Retraction,
    StateCounts,
    StatusData,
)
from scheduler.store.states import ATTENTION, DeliveryState
from scheduler.views.instants import utc_minute
from scheduler.views.reporting import WHY, campaign_record, label, utc
from scheduler.views.reporting.collection import LastCollection

STATUS_FORMAT = 1
"""The version of the JSON shape; it goes up when a key changes meaning or disappears."""

_COLOURS = {
    DeliveryState.FAILED: "red",
    DeliveryState.UNKNOWN: "red",
    DeliveryState.NEEDS_REVIEW: "magenta",
    DeliveryState.MISSED: "yellow",
    DeliveryState.AWAITING_APPROVAL: "cyan",
    DeliveryState.SENT: "green",
    DeliveryState.RETRACTED: "magenta",
}


# --- JSON ---------------------------------------------------------------------------------------


def status_json(data: StatusData, database: str, last: LastCollection | None = None) -> str:
    document = {
        "format": STATUS_FORMAT,
        "database": database,
        "generated_at": utc(data.now),
        "campaigns": [campaign_record(campaign) for campaign in data.campaigns],
        "total": data.states.total,
        "states": _state_record(data.states),
        "attention": {
            "total": data.attention_total,
            "listed": len(data.attention),
            "more": data.attention_more,
            "deliveries": [_attention_record(item) for item in data.attention],
        },
        "per_day": [_group("date", day.isoformat(), c) for day, c in data.per_day.items()],
        "per_embassy": [_group("embassy", e, c) for e, c in data.per_embassy.items()],
        "per_platform": [_group("platform", p, c) for p, c in data.per_platform.items()],
        "pauses": [_pause_record(pause) for pause in data.pauses],
        "accounts": [_account_record(account) for account in data.accounts],
        "retractions": [_retraction_record(item) for item in data.retractions],
        "last_collection": None if last is None else _collection_record(last),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _state_record(counts: StateCounts) -> dict[str, int]:
    return {str(state): counts.counts[state] for state in STATE_ORDER}


def _group(name: str, value: str, counts: StateCounts) -> dict[str, Any]:
    return {name: value, "total": counts.total, "states": _state_record(counts)}


def _attention_record(item: AttentionItem) -> dict[str, Any]:
    return {
        "delivery": item.key,
        "state": str(item.state),
        "campaign": item.campaign_id,
        "post": item.post_id,
        "embassy": item.embassy_id,
        "platform": item.platform,
        "part": item.part,
        "parts": item.parts,
        "due_utc": utc(item.due_at),
        "local_time": item.local_time,
        "timezone": item.timezone,
        "since": utc(item.state_since),
        "error_class": item.error_class,
        "error_message": item.error_message,
        "attempts": item.attempts,
    }


def _pause_record(pause: ActivePause) -> dict[str, Any]:
    return {
        "id": pause.id,
        "scope": pause.scope,
        "reason": pause.reason,
        "author": pause.author,
        "since": utc(pause.since),
    }


def _account_record(account: AccountIssue) -> dict[str, Any]:
    return {
        "campaign": account.campaign_id,
        "embassy": account.embassy_id,
        "platform": account.platform,
        "handle": account.handle,
        "suspended_at": utc(account.suspended_at),
        "suspended_reason": account.suspended_reason,
        "rate_limited_until": utc(account.rate_limited_until),
    }


def _retraction_record(item: Retraction) -> dict[str, Any]:
    return {
        "campaign": item.campaign_id,
        "post": item.post_id,
        "copies": item.copies,
        "retracted_by": item.by,
        "reason": item.reason,
        "retracted_at": utc(item.at),
    }


def _collection_record(last: LastCollection) -> dict[str, Any]:
    return {
        "started_at": utc(last.started_at),
        "finished_at": utc(last.finished_at),
        "trigger": last.trigger,
        "posts_read": last.figures,
        "posts_asked": last.asked,
        "x_cost": last.x_cost,
        "problems": [
            {
                "embassy": trouble.embassy,
                "platform": trouble.platform,
                "handle": trouble.handle,
                "kind": trouble.kind,
                "happened": trouble.happened,
                "to_do": trouble.to_do,
                "message": trouble.said,
            }
            for trouble in last.troubles
        ],
    }


# --- the terminal -------------------------------------------------------------------------------


def render_status(
    data: StatusData,
    database: str,
    *,
    last: LastCollection | None = None,
    width: int | None = None,
    colour: bool | None = None,
) -> str:
    """The status as text, with the last collection of the platforms' counts (``last``);
    ``width`` and ``colour`` default to what the terminal offers."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width or shutil.get_terminal_size((100, 40)).columns,
        force_terminal=sys.stdout.isatty() if colour is None else colour,
        highlight=False,
        soft_wrap=False,
    )
    # Sentences are never hard-wrapped (soft_wrap): a long path must not break one in two for a
    # script or a log. Tables fit the width, wrapping inside their cells.
    if not data.campaigns:
        console.print(
            f"{database}: nothing synced yet. Run `campaign sync FILE` first.", soft_wrap=True
        )
        return out.getvalue()
    console.print(_heading(data, database), soft_wrap=True)
    for renderable in _attention(data, console.width):
        console.print(renderable, soft_wrap=isinstance(renderable, Text))
    if data.pauses:
        console.print(_pauses_table(data.pauses))
    if data.accounts:
        console.print(_accounts_table(data.accounts))
    if data.retractions:
        console.print(_retractions_table(data.retractions, len(data.campaigns) > 1))
    if last is not None or data.states.counts[DeliveryState.SENT]:
        console.print()
        console.print(_collection(last), soft_wrap=True)
    for title, groups in _count_tables(data):
        console.print()
        console.print(_counts_table(title, groups, _count_columns(data.states)))
    return out.getvalue()


def _collection(last: LastCollection | None) -> Text:
    """When the platforms' counts were last read, and what went wrong per account."""
    if last is None:
        return Text("Engagement: never collected (campaign engagement reads the counts).")
    by = "the daemon" if last.trigger == "daemon" else "campaign engagement"
    unfinished = ", not finished" if last.finished_at is None else ""
    text = Text(
        f"Engagement: last collected {utc_minute(last.started_at)} by {by}{unfinished}: "
        f"the counts of {last.figures} of {last.asked} posts read"
    )
    if last.troubles:
        text.append(f"; {len(last.troubles)} account(s) with problems:", style="bold")
    for trouble in last.troubles:
        style = "red" if trouble.kind in ("401", "402") else "yellow"
        text.append(f"\n  {trouble.platform} {trouble.handle} ({trouble.embassy}): ", style=style)
        text.append(f"{trouble.happened}\n    What to do: {trouble.to_do}")
    return text


def _heading(data: StatusData, database: str) -> Text:
    text = Text()
    for campaign in data.campaigns:
        text.append(campaign.name, "bold")
        text.append(f" ({campaign.id}), {campaign.window_start} to {campaign.window_end}")
        if campaign.synced_at is not None:
            text.append(f"; synced {utc_minute(campaign.synced_at)} by {campaign.synced_by}", "dim")
        text.append("\n")
    text.append(
        f"{data.states.total} deliveries in {database}, as of {utc_minute(data.now)}", style="dim"
    )
    return text


def _attention(data: StatusData, width: int) -> list[Table | Text]:
    if not data.attention_total:
        return [Text("Nothing needs attention.", style="green")]
    counts = ", ".join(
        f"{data.states.counts[state]} {label(state)}"
        for state in ATTENTION
        if data.states.counts[state]
    )
    shown: list[Table | Text] = [Text(f"Needs attention: {counts}", style="bold")]
    # One campaign: its id is in the heading, so keys are shown as the planner's ids.
    prefix = f"{data.campaigns[0].id}/" if len(data.campaigns) == 1 else ""
    for state, items in groupby(data.attention, key=lambda item: item.state):
        shown.append(_attention_table(state, list(items), data.states.counts[state], prefix, width))
    if data.attention_more:
        shown.append(
            Text(
                f"... and {data.attention_more} more: --limit 0 lists them all, --json too.",
                style="yellow",
            )
        )
    return shown


_LOCAL_TIME_WIDTH = 16  # "2026-11-25 08:00", the zone below it
_WHY_WIDTH = 20
_TABLE_EDGES = 10  # the borders and padding of a three-column table


def _attention_table(
    state: DeliveryState, items: list[AttentionItem], total: int, prefix: str, width: int
) -> Table | Text:
    listed = f"{len(items)} of {total}" if len(items) < total else str(total)
    keys = [item.key.removeprefix(prefix) for item in items]
    local = max(_LOCAL_TIME_WIDTH, *(len(item.timezone) for item in items))
    if local + max(map(len, keys)) + _WHY_WIDTH + _TABLE_EDGES > width:
        return _attention_lines(state, items, keys, listed)
    table = Table(
        title=f"{label(state).capitalize()}: {listed}",
        title_justify="left",
        title_style=_COLOURS.get(state, ""),
        expand=True,
    )
    # A delivery id is what `campaign settle` takes: it is never cut (on a terminal too narrow
    # for the table, the list below is printed instead). The local time may break between
    # time and zone; the reason wraps.
    table.add_column("Local time", width=local)
    table.add_column("Delivery", no_wrap=True, min_width=max(map(len, keys)))
    table.add_column("Why", overflow="fold", min_width=_WHY_WIDTH, ratio=1)
    for item, key in zip(items, keys, strict=True):
        table.add_row(f"{item.local_time.replace('T', ' ')} {item.timezone}", key, _why(item))
    return table


def _attention_lines(
    state: DeliveryState, items: list[AttentionItem], keys: list[str], listed: str
) -> Text:
    """The attention table as lines, for a terminal too narrow for it: each id whole on a line
    of its own (the terminal may wrap it, never cut it), then its time and why."""
    text = Text(f"{label(state).capitalize()}: {listed}", style=_COLOURS.get(state, ""))
    for item, key in zip(items, keys, strict=True):
        text.append(f"\n  {key}\n", style="bold")
        text.append(f"    {item.local_time.replace('T', ' ')} {item.timezone}: {_why(item)}")
    return text


def _why(item: AttentionItem) -> str:
    if item.state is DeliveryState.AWAITING_APPROVAL:
        return f"post {item.post_id} {WHY[item.state]}"
    message = item.error_message or WHY.get(item.state, "")
    if item.error_class:
        message = f"{item.error_class}: {message}"
    if item.attempts:
        message += f" ({item.attempts} attempt{'s' * (item.attempts != 1)})"
    return message


def scope_label(pause: ActivePause) -> str:
    parts = [f"{name} {value}" for name, value in pause.scope.items() if value is not None]
    return ", ".join(parts) if parts else "everything"


def _pauses_table(pauses: list[ActivePause]) -> Table:
    table = Table(title="Paused", title_justify="left", expand=True)
    table.add_column("Scope", overflow="fold", ratio=1)
    table.add_column("Reason", overflow="fold", ratio=2)
    table.add_column("By", overflow="fold")
    table.add_column("Since", no_wrap=True)
    for pause in pauses:
        table.add_row(scope_label(pause), pause.reason, pause.author, utc_minute(pause.since))
    return table


def _accounts_table(accounts: list[AccountIssue]) -> Table:
    table = Table(title="Accounts that cannot post", title_justify="left", expand=True)
    table.add_column("Account", overflow="fold", ratio=1)
    table.add_column("Handle", overflow="fold", ratio=1)
    table.add_column("Problem", overflow="fold", ratio=2)
    for account in accounts:
        problems = []
        if account.suspended_at is not None:
            reason = f": {account.suspended_reason}" if account.suspended_reason else ""
            problems.append(f"suspended since {utc_minute(account.suspended_at)}{reason}")
        if account.rate_limited_until is not None:
            problems.append(f"rate-limited until {utc_minute(account.rate_limited_until)}")
        table.add_row(
            f"{account.embassy_id}/{account.platform}", account.handle, "; ".join(problems)
        )
    return table


def _retractions_table(retractions: list[Retraction], campaigns: bool) -> Table:
    """Posts taken down: their copies are counted as retracted, never as sent."""
    table = Table(
        title="Retracted (deleted from the platforms)",
        title_justify="left",
        title_style=_COLOURS[DeliveryState.RETRACTED],
        expand=True,
    )
    table.add_column("Post", overflow="fold", ratio=1)
    table.add_column("Copies", justify="right")
    table.add_column("Why", overflow="fold", ratio=2)
    table.add_column("By", overflow="fold")
    table.add_column("When", no_wrap=True)
    for item in retractions:
        post = f"{item.campaign_id}/{item.post_id}" if campaigns else item.post_id
        table.add_row(post, str(item.copies), item.reason, item.by, utc_minute(item.at))
    return table


def _count_tables(data: StatusData) -> list[tuple[str, dict[str, StateCounts]]]:
    campaign = data.campaigns[0] if len(data.campaigns) == 1 else None
    days = {_day_label(day, campaign): counts for day, counts in data.per_day.items()}
    return [
        ("Per local day (each embassy's own date)", days),
        ("Per embassy", data.per_embassy),
        ("Per platform", data.per_platform),
    ]


def _day_label(day: dt.date, campaign: CampaignInfo | None) -> str:
    if campaign is None:
        return f"{day:%a %Y-%m-%d}"
    if not campaign.window_start <= day <= campaign.window_end:
        return f"{day:%a %d %b %Y}"
    return f"{day:%a %d %b} · day {(day - campaign.window_start).days + 1}"


# The daemon's short-lived states share one column, so that every column fits in 100; the
# JSON keeps them apart.
_IN_PROGRESS = (DeliveryState.CLAIMED, DeliveryState.SENDING, DeliveryState.RETRY_WAITING)
_COLUMNS: tuple[tuple[str, tuple[DeliveryState, ...]], ...] = (
    *((label(state), (state,)) for state in ATTENTION),
    ("scheduled", (DeliveryState.SCHEDULED,)),
    ("in progress", _IN_PROGRESS),
    ("sent", (DeliveryState.SENT,)),
    ("retracted", (DeliveryState.RETRACTED,)),
    ("cancelled", (DeliveryState.CANCELLED,)),
)


def _count_columns(total: StateCounts) -> list[tuple[str, tuple[DeliveryState, ...]]]:
    """The columns that have something in them."""
    return [
        (name, states) for name, states in _COLUMNS if sum(total.counts[state] for state in states)
    ]


def _counts_table(
    title: str, groups: dict[str, StateCounts], columns: list[tuple[str, tuple[DeliveryState, ...]]]
) -> Table:
    # No vertical lines and one space between columns: every column fits in 100. Only the
    # group's name may wrap ("Wed 25 Nov ·" over "day 1"), when nearly every state occurs.
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=0, show_edge=False
    )
    table.add_column("")
    for name, states in columns:
        # Headers break between words, never inside one: "needs" over "review".
        header = name.replace(" ", "\n")
        table.add_column(header, justify="right", style=_COLOURS.get(states[0]), no_wrap=True)
    table.add_column("total", justify="right", style="bold")
    for group, counts in groups.items():
        cells = [str(sum(counts.counts[state] for state in states) or "") for _, states in columns]
        table.add_row(group, *cells, str(counts.total))
    return table
