"""How much the HTML preview of a campaign weighs, and what it is made of.

Renders ``campaign preview -f html`` of a campaign file (the repository's ``campaigns.yaml`` by
default) in memory and prints the page's size split into its parts: the embedded images, the
alt texts, the cards, the rest of the markup, the style sheet and the script. Also how many
embassies the first screen shows side by side at a given width, worked out from the style
sheet's own widths (no browser needed).

Usage: python bench/preview_html_size.py [FILE] [--day N ...] [--width 1400]
See docs/performance.md for the figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.service.validation import plan_file  # noqa: E402
from scheduler.views.preview import Filters, XPricing, select, summarize_plan  # noqa: E402
from scheduler.views.preview.html import WIDE_GRID, render_html  # noqa: E402

SCROLLBAR = 15
"""Pixels a vertical scroll bar takes on a desktop browser."""


def _pixels(css: str, pattern: str) -> int:
    found = re.search(pattern, css)
    if found is None:
        raise SystemExit(f"the style sheet has no {pattern!r} any more: update this script")
    return int(found.group(1))


def side_by_side(page: str, width: int, embassies: int) -> str:
    """Embassies visible across ``width`` pixels without scrolling sideways, in each layout;
    the one the page opens with first."""
    css = page[page.index("<style>") : page.index("</style>")]
    usable = width - SCROLLBAR
    card = _pixels(css, r"minmax\((\d+)px,1fr\)")
    per_row = max((usable - 2 * 12 + 8) // (card + 8), 1)  # cards wrap, with 8 px gaps
    rows = -(-embassies // per_row)
    by_day = f"by day: all {embassies}, {min(per_row, embassies)} a row in {rows} rows"
    column = _pixels(css, r"--col:(\d+)px")
    corner = _pixels(css, r"th\.corner\{[^}]*min-width:(\d+)px")
    fit = min((usable - corner) // column, embassies)  # widths include the padding
    grid = f"grid: {fit} of {embassies} columns"
    return f"{by_day}; {grid}" if embassies > WIDE_GRID else f"{grid}; {by_day}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "campaigns.yaml")
    parser.add_argument("--day", action="append", default=[], help="a local date, YYYY-MM-DD")
    parser.add_argument("--width", type=int, default=1400)
    args = parser.parse_args()

    plan, problems = plan_file(args.file)
    import datetime as dt

    days = tuple(dt.date.fromisoformat(day) for day in args.day)
    deliveries = select(plan, Filters(days=days))
    summary = summarize_plan(deliveries, XPricing())
    page = render_html(plan, deliveries, summary, problems, args.file.parent, days=days)

    size = len(page.encode("utf-8"))
    found = re.search(r'<script type="application/json" id="media">(.*?)</script>', page, re.S)
    assert found is not None
    document = json.loads(found.group(1))
    images = sum(len(uri) for uri in document["images"].values())
    alts = sum(len(text.encode("utf-8")) for text in document["alts"].values())
    cards = sum(
        len(card.encode("utf-8")) for card in re.findall(r"<article.*?</article>", page, re.S)
    )
    css = len(page[page.index("<style>") : page.index("</style>")].encode("utf-8"))
    script = len(page[page.rindex("<script>") : page.rindex("</script>")].encode("utf-8"))
    rest = size - images - alts - cards - css - script
    embassies = len({delivery.embassy_id for delivery in deliveries})

    def kb(count: int) -> str:
        return f"{count / 1024:,.0f} KB"

    print(f"{args.file.name}: {len(deliveries)} deliveries, {embassies} embassies")
    print(f"page          {size:>12,} bytes ({size / 1024 / 1024:.2f} MB)")
    print(f"  images      {kb(images):>12}  ({len(document['images'])}, each once)")
    print(f"  alt texts   {kb(alts):>12}  ({len(document['alts'])}, each once)")
    print(f"  cards       {kb(cards):>12}  ({len(re.findall('<article', page))})")
    print(f"  other HTML  {kb(rest):>12}")
    print(f"  style       {kb(css):>12}")
    print(f"  script      {kb(script):>12}")
    print(f"at {args.width} px: {side_by_side(page, args.width, embassies)}")


if __name__ == "__main__":
    main()
