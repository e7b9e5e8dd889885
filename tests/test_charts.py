"""The report's SVG charts: escaped, readable without colour or script, inside their drawing,
the same bytes for the same data (tests/golden/charts.html; ``UPDATE_GOLDEN=1`` rewrites it,
then review its diff)."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scheduler.views.reporting.charts import (
    STYLES,
    WIDTH,
    Series,
    age,
    bar_chart,
    figure,
    line_chart,
)

GOLDEN = Path(__file__).resolve().parent / "golden" / "charts.html"
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"quoted\" ]]> <!--"


def svg_of(markup: str) -> ET.Element:
    """The chart's SVG, read as XML: a label that broke the escaping would not parse."""
    found = re.search(r"<svg .*</svg>", markup, re.S)
    assert found, markup
    return ET.fromstring(found.group(0))


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def numbers(svg: ET.Element, *names: str) -> list[float]:
    """The coordinates ``names`` of everything drawn inside ``svg``."""
    return [float(e.attrib[n]) for e in svg.iter() if e is not svg for n in names if n in e.attrib]


def sample() -> str:
    embassies = [("be-tokyo", 1240), ("be-paris", 310), ("be-newyork", 0), ("東京大使館", 75)]
    lines = [
        Series("favourites", [(1, 12), (24, 140), (168, 175)]),
        Series("reblogs", [(1.02, 2), (25, 31), (170, 44)]),
    ]
    return "\n".join(
        [
            bar_chart(
                "favourites-embassy",
                "Mastodon favourites per embassy",
                embassies,
                label_heading="Embassy",
                value_heading="Favourites",
            ),
            line_chart("mastodon-time", "Mastodon over time", lines, value_heading="Count"),
            bar_chart("empty", "Nothing yet", [], label_heading="Day", value_heading="Likes"),
            "",
        ]
    )


def test_charts_match_the_golden_file() -> None:
    actual = sample()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(actual, encoding="utf-8")
    assert actual == sample(), "the same data draws the same bytes"
    assert actual == GOLDEN.read_text(encoding="utf-8"), "UPDATE_GOLDEN=1, then review the diff"


def test_a_bar_chart_names_itself_its_axes_and_writes_every_value() -> None:
    chart = bar_chart(
        "likes-day",
        "Likes per day",
        [("Wed 25 Nov", 1234567), ("Thu 26 Nov", 89)],
        label_heading="Day",
        value_heading="Likes",
    )
    svg = svg_of(chart)
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-labelledby"] == "likes-day-title likes-day-desc"
    assert svg.attrib["width"] == "100%" and svg.attrib["viewBox"].startswith(f"0 0 {WIDTH} ")
    assert svg.find(f"{SVG}title").text == "Likes per day"  # type: ignore[union-attr]
    desc = svg.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert desc == "Likes per day: Wed 25 Nov: 1,234,567; Thu 26 Nov: 89."
    assert texts(svg) == ["Day", "Likes", "Wed 25 Nov", "1,234,567", "Thu 26 Nov", "89"]
    assert "<figcaption>Likes per day</figcaption>" in chart
    table = re.findall(r"<tr><th scope=\"row\">([^<]*)</th><td class=\"num\">([^<]*)</td>", chart)
    assert table == [("Wed 25 Nov", "1,234,567"), ("Thu 26 Nov", "89")]
    assert "<script" not in chart and " style=" not in chart


def test_bars_are_in_proportion_and_the_biggest_value_still_fits() -> None:
    svg = svg_of(
        bar_chart(
            "b", "B", [("a", 9876543210), ("b", 4938271605)], label_heading="A", value_heading="V"
        )
    )
    widths = [float(r.attrib["width"]) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)
    value = next(t for t in svg.iter(f"{SVG}text") if t.text == "9,876,543,210")
    assert float(value.attrib["x"]) + len(value.text or "") * 7.2 <= WIDTH
    assert max(numbers(svg, "x", "width")) <= WIDTH


def test_hostile_labels_are_escaped_everywhere() -> None:
    bars = bar_chart("h", HOSTILE, [(HOSTILE, 3)], label_heading=HOSTILE, value_heading=HOSTILE)
    lines = line_chart("l", HOSTILE, [Series(HOSTILE, [(1, 2)])], value_heading=HOSTILE)
    for chart in (bars, lines):
        assert "<script" not in chart and "<!--" not in chart
        svg = svg_of(chart)
        assert HOSTILE in texts(svg)[0] or HOSTILE in texts(svg)
        assert svg.find(f"{SVG}title").text == HOSTILE  # type: ignore[union-attr]
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in chart


def test_no_figures_yet_draws_no_chart() -> None:
    for chart in (
        bar_chart("e", "Likes per day", [], label_heading="Day", value_heading="Likes"),
        line_chart("f", "Over time", [], value_heading="Count"),
        line_chart("g", "Over time", [Series("likes", [])], value_heading="Count"),
    ):
        assert "No figures yet." in chart and "<svg" not in chart and "<table" not in chart


def test_zero_everywhere_draws_empty_bars_and_a_flat_line() -> None:
    bars = svg_of(bar_chart("z", "Z", [("a", 0), ("b", 0)], label_heading="A", value_heading="V"))
    assert [r.attrib["width"] for r in bars.iter(f"{SVG}rect")] == ["0.0", "0.0"]
    assert texts(bars)[2:] == ["a", "0", "b", "0"]
    line = svg_of(line_chart("y", "Y", [Series("likes", [(0, 0), (1, 0)])], value_heading="V"))
    heights = {c.attrib["cy"] for c in line.iter(f"{SVG}circle")}
    assert len(heights) == 1


def test_a_long_label_is_cut_in_the_drawing_and_whole_in_the_table() -> None:
    long = "Embassy of the Kingdom of Belgium to the United States of America, Washington"
    wide = "在日ベルギー大使館" * 4
    chart = bar_chart("c", "C", [(long, 1), (wide, 2)], label_heading="A", value_heading="V")
    shown = texts(svg_of(chart))
    assert shown[2].endswith("…") and long.startswith(shown[2][:-1])
    assert shown[4].endswith("…") and len(shown[4]) < 24
    assert f'<th scope="row">{long}</th>' in chart and f'<th scope="row">{wide}</th>' in chart


def test_a_line_chart_has_labelled_axes_a_legend_and_stays_in_its_drawing() -> None:
    series = [
        Series("likes", [(168, 90), (1, 5), (24, 60)]),  # out of order: drawn in time order
        Series("reposts", [(1, 1), (24, 7)]),
    ]
    chart = line_chart("t", "Bluesky over time", series, value_heading="Count")
    svg = svg_of(chart)
    shown = texts(svg)
    assert shown[0] == "Count" and "Time since posting" in shown
    assert "likes: 90 after 7 d" in shown and "reposts: 7 after 24 h" in shown
    assert {"0 h", "2 d", "4 d", "6 d", "8 d"} <= set(shown)
    assert {"0", "50", "100"} <= set(shown)
    paths = [p.attrib["d"] for p in svg.iter(f"{SVG}path") if p.attrib.get("stroke-width")]
    xs = [float(x) for x in re.findall(r"[ML]([\d.]+),", paths[0])]
    assert xs == sorted(xs) and len(xs) == 3
    dashes = [p.attrib.get("stroke-dasharray") for p in svg.iter(f"{SVG}path")]
    assert STYLES[1][1] in dashes  # the second line differs by its dashes, not colour alone
    width, height = map(float, svg.attrib["viewBox"].split()[2:])
    assert max(numbers(svg, "x", "x1", "x2", "cx")) <= width
    assert max(numbers(svg, "y", "y1", "y2", "cy")) <= height
    assert "after 7 d" in (svg.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]


def test_a_line_chart_takes_at_most_six_lines_and_ids_are_checked() -> None:
    many = [Series(f"s{i}", [(1, i)]) for i in range(len(STYLES) + 1)]
    with pytest.raises(ValueError, match="at most 6"):
        line_chart("m", "M", many, value_heading="V")
    with pytest.raises(ValueError, match="chart ident"):
        bar_chart('x" onload="alert(1)', "T", [], label_heading="A", value_heading="V")


@pytest.mark.parametrize(
    ("hours", "said"),
    [(0, "0 h"), (0.25, "15 min"), (1, "1 h"), (1.5, "1.5 h"), (47, "47 h"), (168, "7 d")],
)
def test_age(hours: float, said: str) -> None:
    assert age(hours) == said


def test_figure() -> None:
    assert [figure(v) for v in (0, 7, 1234, 1234567890, 2.5)] == [
        "0",
        "7",
        "1,234",
        "1,234,567,890",
        "2.5",
    ]
