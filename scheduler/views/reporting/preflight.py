"""What people read after `campaign check`: one row per account, then the media files."""

from __future__ import annotations

import io
import shutil
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from adapters.base import AccountLimits
from scheduler.service.preflight import AccountResult, Preflight


def render_preflight(
    report: Preflight, *, width: int | None = None, colour: bool | None = None
) -> str:
    """The preflight as text; ``width`` and ``colour`` default to what the terminal offers."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width or max(shutil.get_terminal_size((140, 40)).columns, 120),
        force_terminal=sys.stdout.isatty() if colour is None else colour,
        highlight=False,
        soft_wrap=False,
    )
    # The heading is a sentence, not the table's title: a long path never breaks it in two.
    console.print(Text(f"Preflight of {report.file}", "italic"), soft_wrap=True)
    table = Table()
    for name in ("Embassy", "Platform", "Handle", "Result"):
        table.add_column(name, no_wrap=True)
    table.add_column("Details", overflow="fold")
    for account in report.accounts:
        result = Text("ok", "green") if account.ok else Text("FAIL", "bold red")
        table.add_row(
            account.ref.embassy_id or "",
            str(account.ref.platform),
            account.ref.handle or "",
            result,
            _details(account),
        )
    console.print(table)
    for media in report.media:
        if not media.ok:
            console.print(Text(f"{media.file}: {media.problem}", "red"), soft_wrap=True)
    # Sentences are never hard-wrapped: a long path must not break a line for a script or a log.
    console.print(_summary(report), style="green" if report.ok else "red", soft_wrap=True)
    return out.getvalue()


def _details(account: AccountResult) -> str:
    lines = list(account.problems)
    if account.check is not None:
        limits = account.check.limits
        who = account.check.handle + (
            f" ({account.check.display_name})" if account.check.display_name else ""
        )
        lines.append(f"{who}; {account.deliveries} planned; {_limits(limits)}")
    lines += account.notes
    return "\n".join(lines)


def _limits(limits: AccountLimits) -> str:
    """The limits shown, each one the platform did not state marked as assumed (all of them:
    "assumed limits")."""
    shown = ("max_characters", "max_media", "max_image_bytes")
    assumed = limits.assumed & set(shown)

    def mark(name: str) -> str:
        return " (assumed)" if name in assumed and len(assumed) < len(shown) else ""

    kind = "assumed" if len(assumed) == len(shown) else "live"
    return (
        f"{kind} limits {limits.max_characters} characters{mark('max_characters')}, "
        f"{limits.max_media} images{mark('max_media')} "
        f"of {limits.max_image_bytes:,} bytes{mark('max_image_bytes')}"
    )


def _summary(report: Preflight) -> str:
    failed = sum(not account.ok for account in report.accounts)
    damaged = sum(not media.ok for media in report.media)
    accounts = len(report.accounts)
    return (
        f"{report.file}: {accounts} account{'s' * (accounts != 1)}, {failed} with problems; "
        f"{len(report.media)} media files, {damaged} with problems"
    )
