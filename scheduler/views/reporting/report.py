"""`campaign report`: what went out (with its URL on the platform, and when, by the platform's
clock and ours), what was retracted (who, when, why; its dead URL shown but never linked), what
failed and why, what was missed or cancelled. As CSV, JSON or one self-contained HTML page.

The page loads nothing: the style sheet is inline, there is no script, and a Content Security
Policy says so to the browser. Every text from the store is escaped; a link to a post is drawn
only for an http(s) URL, so a stored ``javascript:`` URL stays inert text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html import escape
from string import Template
from typing import Any
from urllib.parse import urlsplit

from scheduler.store.queries import STATE_ORDER, CampaignInfo, ReportData, ReportRow
from scheduler.store.states import DeliveryState
from scheduler.views.reporting import WHY, label, report_record, utc

REPORT_FORMAT = 1
"""The version of the JSON shape; it goes up when a key changes meaning or disappears."""

CSV_COLUMNS = [
    "state",
    "delivery",
    "campaign",
    "post",
    "embassy",
    "platform",
    "account",
    "part",
    "parts",
    "language",
    "due_utc",
    "local_time",
    "timezone",
    "sent_at",
    "sent_clock",
    "our_sent_at",
    "remote_url",
    "remote_id",
    "retracted_at",
    "retracted_by",
    "retraction_reason",
    "error_class",
    "error_message",
    "attempts",
    "changed_after_sent",
    "state_since",
    "text",
]

S = DeliveryState
SECTIONS: tuple[tuple[str, str, tuple[DeliveryState, ...]], ...] = (
    ("sent", "Sent", (S.SENT,)),
    ("retracted", "Retracted", (S.RETRACTED,)),
    ("failed", "Failed", (S.FAILED,)),
    ("unresolved", "Outcome unknown", (S.UNKNOWN, S.NEEDS_REVIEW)),
    ("missed", "Missed", (S.MISSED,)),
    ("cancelled", "Cancelled", (S.CANCELLED,)),
)
"""The report's parts: an id (for JSON and anchors), a title, the states each one holds."""


def report_json(data: ReportData, database: str) -> str:
    document = {
        "format": REPORT_FORMAT,
        "database": database,
        "generated_at": utc(data.now),
        "campaigns": [_campaign_record(campaign) for campaign in data.campaigns],
        "states": {str(state): data.states.counts[state] for state in STATE_ORDER},
        "deliveries": [report_record(row) for row in data.rows],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _campaign_record(campaign: CampaignInfo) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "start": campaign.window_start.isoformat(),
        "end": campaign.window_end.isoformat(),
        "synced_at": utc(campaign.synced_at),
    }


def report_csv(data: ReportData) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in data.rows:
        record = report_record(row)
        record["changed_after_sent"] = "yes" if row.changed_after_sent else ""
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return out.getvalue()


# --- HTML ---------------------------------------------------------------------------------------


def report_html(data: ReportData, database: str) -> str:
    """The whole page, ready to be written to a file and opened or mailed."""
    names = ", ".join(campaign.name for campaign in data.campaigns) or "No campaign"
    body = "".join(
        [
            _masthead(data, names, database),
            _tiles(data),
            *(_section(data, key, title, states) for key, title, states in SECTIONS),
        ]
    )
    return _PAGE.substitute(title=escape(f"{names} - report"), css=_CSS, body=body)


def _masthead(data: ReportData, names: str, database: str) -> str:
    windows = "; ".join(
        f"<code>{escape(c.id)}</code> {c.window_start:%a %d %b %Y} to {c.window_end:%a %d %b %Y}"
        for c in data.campaigns
    )
    return (
        f'<header class="masthead"><h1>{escape(names)}</h1>'
        f'<p class="sub">{windows or "nothing synced yet"}</p>'
        f'<p class="sub">Report of {escape(database)} as of {_minute(data.now)}</p></header>'
    )


def _tiles(data: ReportData) -> str:
    counts = data.states.counts
    pending = sum(counts[s] for s in (S.SCHEDULED, S.CLAIMED, S.SENDING, S.RETRY_WAITING))
    tiles = [
        _tile(title, sum(counts[state] for state in states), key, link=True)
        for key, title, states in SECTIONS
    ]
    # Not listed in the report (status lists them): counted, without a link.
    tiles.append(_tile("Still to go", pending, "pending"))
    tiles.append(_tile("Awaiting approval", counts[S.AWAITING_APPROVAL], "approval"))
    return f'<section class="tiles">{"".join(tiles)}</section>'


def _tile(title: str, count: int, key: str, *, link: bool = False) -> str:
    inner = (
        f'<span class="tile-label">{escape(title)}</span><span class="tile-value">{count}</span>'
    )
    if link:
        return f'<a class="tile {key}" href="#{key}">{inner}</a>'
    return f'<div class="tile {key}">{inner}</div>'


def _section(data: ReportData, key: str, title: str, states: tuple[DeliveryState, ...]) -> str:
    rows = data.section(*states)
    if not rows:
        return (
            f'<section id="{key}"><h2>{escape(title)} <small>0</small></h2>'
            '<p class="none">None.</p></section>'
        )
    outcome = {"sent": "On the platform", "retracted": "Removed from the platform"}.get(key, "Why")
    head = "".join(
        f"<th>{name}</th>" for name in ("Local time", "Embassy", "Account", "Post", outcome, "Text")
    )
    body = "".join(_row(row) for row in rows)
    return (
        f'<section id="{key}"><h2>{escape(title)} <small>{len(rows)}</small></h2>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _row(row: ReportRow) -> str:
    part = f" {row.part}/{row.parts}" if row.parts > 1 else ""
    changed = (
        ' <span class="flag">edited after it went out</span>' if row.changed_after_sent else ""
    )
    return (
        f'<tr class="s-{escape(str(row.state))}">'
        f"<td><b>{escape(row.local_time.replace('T', ' '))}</b>"
        f"<br><small>{escape(row.timezone)}</small></td>"
        f"<td>{escape(row.embassy_id)}</td>"
        f'<td><span class="plat p-{escape(row.platform)}">{escape(row.platform)}</span> '
        f"{escape(row.account)}</td>"
        f"<td><code>{escape(row.post_id)}{escape(part)}</code>"
        f"<br><small>{escape(row.language)}</small></td>"
        f"<td>{_outcome(row)}{changed}</td>"
        f'<td class="text">{escape(row.text)}</td></tr>'
    )


def _outcome(row: ReportRow) -> str:
    if row.state is S.SENT:
        when = _sent_when(row)
        return f"{_link(row.remote_url)}<br>{when}" if row.remote_url else f"no URL<br>{when}"
    if row.state is S.RETRACTED:
        # The address no longer works: shown, struck through, never as a link.
        url = f"<s><code>{escape(row.remote_url)}</code></s> " if row.remote_url else ""
        by = escape(row.retracted_by or "unknown")
        why = escape(row.retraction_reason or "not given")
        return (
            f'{url}<span class="flag removed">removed</span>'
            f"<br><small>retracted {_minute(row.retracted_at)} by {by}</small>"
            f"<br>{why}<br>{_sent_when(row)}"
        )
    why = escape(row.error_message or WHY.get(row.state, label(row.state)))
    error = f"<code>{escape(row.error_class)}</code> " if row.error_class else ""
    attempts = row.attempts
    tries = f"<br><small>{attempts} attempt{'s' * (attempts != 1)}</small>" if attempts else ""
    state = (
        ""
        if row.state in (S.FAILED, S.MISSED, S.CANCELLED)
        else f"<b>{escape(label(row.state))}</b> "
    )
    return f"{state}{error}{why}{tries}"


def _sent_when(row: ReportRow) -> str:
    """When it went out: the platform's time, and ours beside it."""
    if row.platform_sent_at is not None:
        ours = f"; our clock {_second(row.sent_at)}" if row.sent_at else ""
        return f"<small>sent {_second(row.platform_sent_at)} (the platform's clock{ours})</small>"
    if row.sent_at is not None:
        return f"<small>sent {_second(row.sent_at)} (our clock: the platform gave no time)</small>"
    return ""


def _second(instant: dt.datetime | None) -> str:
    if instant is None:
        return ""
    return f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _link(url: str) -> str:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return f"<code>{escape(url)}</code>"
    return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>'


def _minute(instant: dt.datetime | None) -> str:
    if instant is None:
        return ""
    return f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'">
<title>$title</title>
<style>$css</style>
</head>
<body>
$body
</body>
</html>
"""
)

_CSS = """
:root{--x:#0f1419;--mastodon:#6364ff;--bluesky:#1185fe;--ink:#1f2328;--muted:#59636e;
--line:#d1d9e0;--bg:#f3f4f6;--ok:#1a7f37;--warn:#9a6700;--err:#cf222e;--accent:#e8590c}
*{box-sizing:border-box}
html,body{margin:0}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,
"Noto Sans","Hiragino Sans","Yu Gothic","Microsoft YaHei","Noto Sans CJK JP",sans-serif;
color:var(--ink);background:var(--bg)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
h1,h2{margin:0}
.masthead{padding:14px 24px;background:#16181d;color:#fff;border-bottom:4px solid var(--accent)}
.masthead h1{font-size:20px;font-weight:650}
.masthead .sub{margin:2px 0 0;color:#c9ced6}
.masthead code{color:#ffd8a8}
.tiles{display:flex;flex-wrap:wrap;gap:10px;padding:16px 24px 4px}
.tile{display:flex;flex-direction:column;min-width:140px;padding:10px 14px;background:#fff;
border:1px solid var(--line);border-radius:10px;border-top:3px solid #8c959f;color:inherit;
text-decoration:none}
.tile.sent{border-top-color:var(--ok)}
.tile.retracted{border-top-color:var(--muted)}
.tile.failed,.tile.unresolved{border-top-color:var(--err)}
.tile.missed,.tile.approval{border-top-color:var(--warn)}
.tile-label{font-size:12px;color:var(--muted);font-weight:600}
.tile-value{font-size:24px;font-weight:700;line-height:1.2}
section[id]{margin:12px 24px;padding:10px 14px;background:#fff;border:1px solid var(--line);
border-radius:10px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
h2 small{font-size:13px;color:var(--ink)}
.none{color:var(--muted);margin:6px 0 0}
.scroll{overflow:auto;margin-top:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eaeef2;padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:#f6f8fa;position:sticky;top:0}
td small{color:var(--muted)}
td.text{white-space:pre-wrap;overflow-wrap:anywhere;max-width:420px;color:#3d444d}
.plat{font-size:11px;font-weight:700;padding:0 6px;border-radius:4px;color:#fff;background:#8c959f}
.plat.p-x{background:var(--x)}.plat.p-mastodon{background:var(--mastodon)}
.plat.p-bluesky{background:var(--bluesky)}
a{color:#0550ae;overflow-wrap:anywhere}
tr.s-failed td:nth-child(5),tr.s-unknown td:nth-child(5),tr.s-needs_review td:nth-child(5){
color:var(--err)}
.flag{display:inline-block;margin-top:2px;font-size:11px;padding:0 6px;border-radius:4px;
background:#fff8c5;color:var(--warn)}
.flag.removed{background:#ffebe9;color:var(--err)}
s code{color:var(--muted)}
@media print{.scroll{overflow:visible}thead th{position:static}}
"""
