"""Charts drawn on the server as SVG: horizontal bars (a value per embassy, platform, language
or day) and a small line chart (counts over the hours since posting).

This module only measures: it turns plain data into positions and texts, each a string written
to one decimal place so that the same data always draws the same bytes. The markup is in
``templates/charts.html``, whose macros escape every label. A chart reads without JavaScript
and without colour: its title and a description with every value are in the SVG (``role="img"``
with ``<title>``/``<desc>``), each bar has its value written beside it, both axes are labelled,
and a table of the same figures sits under it. It scales to the width it is given
(``viewBox``, ``width="100%"``), down to a 360 px phone.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from scheduler.views import pages
from scheduler.views.pages import figure

WIDTH = 360
"""The width of every chart's drawing, in its own units; it is scaled to the page."""
_CHAR = 7.2  # the width of a digit at the charts' 12-unit font, near enough for any font
_LABEL_ROOM = 46  # a longer label is cut in the drawing (whole in the table and the desc)
_ROW = 34  # a bar's label, the bar, and room between them
_IDENT = re.compile(r"[a-z][a-z0-9-]*")

STYLES: tuple[tuple[str, str], ...] = (
    ("#0969da", ""),
    ("#cf222e", "6 3"),
    ("#1a7f37", "2 3"),
    ("#9a6700", "8 3 2 3"),
    ("#8250df", "4 4"),
    ("#57606a", "1 3"),
)
"""A line's colour and dash pattern: lines differ by their dashes too, not by colour alone."""

_Scale = Callable[[float], float]
_HOUR_STEPS = (1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720, 1440, 2160)


def age(hours: float) -> str:
    """Time since posting: ``45 min``, ``1 h``, ``1.5 h``, ``7 d``."""
    if hours == 0:
        return "0 h"
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{_trim(hours)} h"
    return f"{_trim(hours / 24)} d"


def _trim(number: float) -> str:
    return f"{number:.1f}".removesuffix(".0")


def _at(number: float) -> str:
    """A coordinate: one decimal place, so that output is the same on every machine."""
    return f"{number:.1f}"


def _cut(label: str) -> str:
    """``label`` as drawn: cut with an ellipsis past the drawing's width, a wide (CJK)
    character counting twice."""
    room = _LABEL_ROOM
    for index, char in enumerate(label):
        room -= 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if room < 0:
            return label[: max(index - 1, 0)] + "…"
    return label


def _check(ident: str) -> None:
    if not _IDENT.fullmatch(ident):
        raise ValueError(f"chart ident {ident!r}: expected lowercase letters, digits and '-'")


# --- bars ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bar:
    label: str
    """The label, whole: the table and the tooltip show it."""
    shown: str
    """The label as drawn, cut when too long."""
    value: str
    label_y: str
    bar_y: str
    width: str
    value_x: str
    value_y: str


@dataclass(frozen=True, slots=True)
class BarChart:
    ident: str
    title: str
    desc: str
    label_heading: str
    value_heading: str
    bars: list[_Bar]
    width: int
    height: int
    value_heading_x: str


def bar_chart(
    ident: str,
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    label_heading: str,
    value_heading: str,
    description: str = "",
) -> Markup:
    """Horizontal bars, one per ``(label, value)`` in the order given, each value written at the
    end of its bar; ``label_heading`` and ``value_heading`` name the axes and the table's
    columns. ``ident`` (lowercase, digits, '-') makes the ids in the page unique."""
    _check(ident)
    return pages.macro(
        "charts.html",
        "bar_chart",
        _measure_bars(ident, title, bars, label_heading, value_heading, description),
    )


def _measure_bars(
    ident: str,
    title: str,
    bars: Sequence[tuple[str, float]],
    label_heading: str,
    value_heading: str,
    description: str,
) -> BarChart:
    values = [figure(value) for _, value in bars]
    room = 8 + _CHAR * max((len(text) for text in values), default=1)
    longest = max((value for _, value in bars), default=0)
    scale = (WIDTH - room) / longest if longest > 0 else 0.0
    drawn = []
    for row, ((label, value), text) in enumerate(zip(bars, values, strict=True)):
        top = 24 + row * _ROW
        length = max(value, 0) * scale
        drawn.append(
            _Bar(
                label=label,
                shown=_cut(label),
                value=text,
                label_y=_at(top + 12),
                bar_y=_at(top + 17),
                width=_at(length),
                value_x=_at(length + 4),
                value_y=_at(top + 27),
            )
        )
    listed = "; ".join(f"{label}: {text}" for (label, _), text in zip(bars, values, strict=True))
    return BarChart(
        ident=ident,
        title=title,
        desc=_desc(description, f"{value_heading} per {label_heading.lower()}", listed),
        label_heading=label_heading,
        value_heading=value_heading,
        bars=drawn,
        width=WIDTH,
        height=24 + len(bars) * _ROW + 4,
        value_heading_x=_at(WIDTH),
    )


def _desc(description: str, what: str, listed: str) -> str:
    said = f"{description} " if description else ""
    return f"{said}{what}: {listed}." if listed else f"{said}No figures yet."


# --- lines --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One line: its name, and its points as (hours since posting, value)."""

    name: str
    points: Sequence[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class _Tick:
    at: str
    text: str


@dataclass(frozen=True, slots=True)
class _Point:
    x: str
    y: str
    age: str
    value: str


@dataclass(frozen=True, slots=True)
class _Line:
    name: str
    colour: str
    dashes: str
    path: str
    points: list[_Point]
    legend_y: str
    last: str
    """What the legend says after the name: the last value, and when."""


@dataclass(frozen=True, slots=True)
class LineChart:
    ident: str
    title: str
    desc: str
    x_heading: str
    value_heading: str
    lines: list[_Line]
    x_ticks: list[_Tick]
    y_ticks: list[_Tick]
    left: str
    right: str
    top: str
    bottom: str
    x_heading_x: str
    x_heading_y: str
    width: int
    height: int


_PLOT_TOP = 24.0
_PLOT_HEIGHT = 150.0
_LEGEND_ROW = 18


def line_chart(
    ident: str,
    title: str,
    series: Sequence[Series],
    *,
    value_heading: str,
    description: str = "",
) -> Markup:
    """Counts over the hours since posting, one line per series (at most six), on a time axis
    that starts at the post; ``value_heading`` names the vertical axis."""
    _check(ident)
    if len(series) > len(STYLES):
        raise ValueError(f"line chart {ident}: {len(series)} series, at most {len(STYLES)}")
    return pages.macro(
        "charts.html",
        "line_chart",
        _measure_lines(ident, title, series, value_heading, description),
    )


def _measure_lines(
    ident: str, title: str, series: Sequence[Series], value_heading: str, description: str
) -> LineChart:
    drawn = [line for line in series if line.points]
    hours = [h for line in drawn for h, _ in line.points]
    values = [v for line in drawn for _, v in line.points]
    x_step = next((s for s in _HOUR_STEPS if max(hours, default=0) <= 5 * s), _HOUR_STEPS[-1])
    x_top = max(x_step, math.ceil(max(hours, default=0) / x_step) * x_step)
    y_step = _nice_step(max(values, default=0))
    y_top = max(y_step, math.ceil(max(values, default=0) / y_step) * y_step)
    y_values = range(0, y_top + 1, y_step)
    left = 10 + _CHAR * max(len(figure(v)) for v in y_values)
    right = WIDTH - 14.0
    bottom = _PLOT_TOP + _PLOT_HEIGHT

    def x(h: float) -> float:
        return left + (right - left) * max(h, 0) / x_top

    def y(v: float) -> float:
        return bottom - _PLOT_HEIGHT * max(v, 0) / y_top

    lines = [
        _draw_line(line, STYLES[index], x, y, bottom + 50 + index * _LEGEND_ROW)
        for index, line in enumerate(drawn)
    ]
    listed = "; ".join(
        f"{line.name}: " + ", ".join(f"{figure(v)} after {age(h)}" for h, v in line.points)
        for line in drawn
    )
    return LineChart(
        ident=ident,
        title=title,
        desc=_desc(description, f"{value_heading} over the time since posting", listed),
        x_heading="Time since posting",
        value_heading=value_heading,
        lines=lines,
        x_ticks=[_Tick(_at(x(h)), age(h)) for h in range(0, int(x_top) + 1, x_step)],
        y_ticks=[_Tick(_at(y(v)), figure(v)) for v in y_values],
        left=_at(left),
        right=_at(right),
        top=_at(_PLOT_TOP),
        bottom=_at(bottom),
        x_heading_x=_at((left + right) / 2),
        x_heading_y=_at(bottom + 34),
        width=WIDTH,
        height=int(bottom + 44 + len(lines) * _LEGEND_ROW),
    )


def _nice_step(top: float) -> int:
    """The step of at most four intervals from 0 to ``top``: 1, 2 or 5 times a power of ten."""
    if top <= 4:
        return 1
    power: int = 10 ** math.floor(math.log10(top / 4))
    return next(m * power for m in (1, 2, 5, 10) if top <= 4 * m * power)


def _draw_line(
    line: Series,
    style: tuple[str, str],
    x: _Scale,
    y: _Scale,
    legend_y: float,
) -> _Line:
    ordered = sorted(line.points)
    points = [_Point(_at(x(h)), _at(y(v)), age(h), figure(v)) for h, v in ordered]
    last_h, last_v = ordered[-1]
    return _Line(
        name=line.name,
        colour=style[0],
        dashes=style[1],
        path=" ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points)),
        points=points,
        legend_y=_at(legend_y),
        last=f"{figure(last_v)} after {age(last_h)}",
    )


__all__ = [
    "STYLES",
    "WIDTH",
    "BarChart",
    "LineChart",
    "Series",
    "age",
    "bar_chart",
    "figure",
    "line_chart",
]
