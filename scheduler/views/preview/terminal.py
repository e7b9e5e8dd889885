"""The terminal preview: a timeline by local day, in local time and UTC, warnings inline."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sys
from collections import defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from scheduler.campaign.planner import Delivery, Plan
from scheduler.problems import FieldPath, Problem
from scheduler.views.preview import Summary, platform_label, problems_by_source

TEXT_PREVIEW = 70


def render_table(
    plan: Plan,
    deliveries: list[Delivery],
    summary: Summary,
    problems: list[Problem],
    *,
    width: int | None = None,
    colour: bool | None = None,
) -> str:
    """The preview as text; ``width`` and ``colour`` default to what the terminal offers."""
    out = io.StringIO()
    if width is None:
        width = max(shutil.get_terminal_size((160, 40)).columns, 120)
    if colour is None:
        colour = sys.stdout.isatty()
    console = Console(
        file=out, width=width, force_terminal=colour, highlight=False, soft_wrap=False
    )
    console.print(
        f"[bold]{plan.campaign_name}[/] ({plan.campaign_id}), "
        f"{plan.window_start} to {plan.window_end} - dry run, nothing is sent",
        soft_wrap=True,
    )
    inline = problems_by_source(problems)
    for day, items in _by_local_day(deliveries).items():
        console.print(_day_table(plan, day, items, inline))
    console.print(_summary_table(summary))
    return out.getvalue()


def _by_local_day(deliveries: list[Delivery]) -> dict[dt.date, list[Delivery]]:
    days: dict[dt.date, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        days[delivery.local_time.date()].append(delivery)
    return dict(sorted(days.items()))


def _day_table(
    plan: Plan, day: dt.date, items: list[Delivery], inline: dict[FieldPath, list[Problem]]
) -> Table:
    number = (day - plan.window_start).days + 1
    table = Table(
        title=f"Day {number} - {day:%A %d %B %Y} (local dates)",
        title_justify="left",
        expand=True,
        show_lines=False,
    )
    for column, style in (
        ("UTC", "dim"),
        ("Local", "bold"),
        ("Embassy", ""),
        ("Platform", ""),
        ("Lang", ""),
        ("Part", ""),
        ("Length", ""),
        ("Text", ""),
    ):
        table.add_column(
            column,
            style=style or None,
            no_wrap=column != "Text",
            ratio=1 if column == "Text" else None,
        )
    for delivery in items:
        table.add_row(*_row(delivery, inline.get(delivery.source, [])))
    return table


def _row(delivery: Delivery, warnings: list[Problem]) -> list[str | Text]:
    first_line = delivery.text.replace("\n", " ")
    if len(first_line) > TEXT_PREVIEW:
        first_line = first_line[: TEXT_PREVIEW - 1] + "…"
    text = Text(first_line)
    if delivery.media:
        text.append(f" [{len(delivery.media)} image{'s' * (len(delivery.media) > 1)}]", "cyan")
    for problem in warnings:
        text.append(f"\n⚠ {problem.message}", "yellow" if not problem.is_error else "red")
    over = delivery.too_long() is not None
    length = Text(f"{delivery.length}/{delivery.limit}", style="red bold" if over else "green")
    return [
        f"{delivery.due_at:%H:%M}",
        f"{delivery.local_time:%H:%M} {delivery.timezone}",
        delivery.embassy_id,
        platform_label(delivery.platform),
        delivery.language,
        f"{delivery.part}/{delivery.parts}",
        length,
        text,
    ]


def _summary_table(summary: Summary) -> Table:
    table = Table(title="Summary", title_justify="left")
    table.add_column("What")
    table.add_column("Count", justify="right")
    table.add_row("Deliveries", str(summary.deliveries))
    for platform, count in summary.per_platform.items():
        table.add_row(f"  on {platform}", str(count))
    table.add_row("Most posts on one account in one day", str(summary.busiest_account_day))
    table.add_row("X posts (with a URL)", f"{summary.x_posts} ({summary.x_posts_with_url})")
    table.add_row(
        f"Estimated X cost (USD {summary.pricing.per_post}/post, "
        f"{summary.pricing.per_url_post}/post with URL)",
        f"${summary.x_cost}",
    )
    return table
