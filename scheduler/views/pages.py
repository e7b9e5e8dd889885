"""The one Jinja environment that draws every HTML page (the preview, the report, and later the
web dashboard), from the templates in ``views/templates`` and the style sheets and scripts in
``views/static``.

Each page is one self-contained file: ``static()`` hands a template a style sheet or script to
inline. Every value a template prints is escaped the way :func:`html.escape` escapes it
(``&quot;`` and ``&#x27;`` for quotes), so pages compare byte for byte with those drawn before
templates and with each other; markup made by a macro, ``static()`` or ``script_json`` is
already safe and goes through untouched.

Templates are indented for reading, but the pages stay dense (a page of hundreds of cards
repeats every byte of indentation hundreds of times): in an ``.html`` template, a line break
followed by indentation is dropped with it when the template is loaded. A line starting in the
first column keeps its line break; ``{{ "\\n" }}`` writes one anywhere else. A tag (``{% %}``,
``{{ }}``) therefore stays on one line.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from scheduler.views.instants import utc_minute, utc_second

_CONTINUATION = re.compile(r"\n[ \t]+")


class _JoinIndentedLines(Extension):
    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name is not None and name.endswith(".html"):
            return _CONTINUATION.sub("", source)
        return source


def render(template: str, **context: Any) -> str:
    """The page drawn by ``template`` (a name under ``views/templates``) from ``context``."""
    return _environment().get_template(template).render(**context)


def macro(template: str, name: str, *args: Any) -> Markup:
    """What the macro ``name`` of ``template`` draws from ``args``: a fragment made by a
    template (a chart) for Python to hand to a page."""
    drawn = getattr(_environment().get_template(template).module, name)(*args)
    return Markup(drawn)


@cache
def static(name: str) -> Markup:
    """A file of ``views/static``, trusted markup to inline in a page."""
    return Markup(files("scheduler.views").joinpath("static", name).read_text(encoding="utf-8"))


def script_json(document: object) -> Markup:
    """``document`` as compact JSON to sit inside ``<script>``: no '<' at all may appear in it
    ('</script>' would end it, '<!--' would change how it is read), whatever a text holds."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c"))


def figure(value: float) -> str:
    """A count as people read it: ``1,234,567``; a fraction to one decimal place."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def is_web_url(url: str) -> bool:
    """Only an http(s) address is ever drawn as a link: a stored ``javascript:`` URL stays
    inert text."""
    return urlsplit(url).scheme.lower() in ("http", "https")


def _escape(value: object) -> object:
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("scheduler.views", "templates"),
        autoescape=True,
        finalize=_escape,
        undefined=StrictUndefined,
        extensions=[_JoinIndentedLines],
        keep_trailing_newline=True,
    )
    environment.globals["static"] = static
    environment.filters.update(
        strftime=format,
        script_json=script_json,
        utc_minute=utc_minute,
        utc_second=utc_second,
        figure=figure,
    )
    environment.tests["web_url"] = is_web_url
    return environment
