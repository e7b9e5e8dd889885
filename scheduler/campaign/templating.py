"""Embassy-specific text: '{embassy}', '{country}' and the embassy's own variables.

A network of many accounts posting one identical text looks like platform manipulation to X;
placeholders let every embassy say the same thing in its own words. '{{' and '}}' write literal
braces. An unknown placeholder is an error, never left in a post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Names as wide as a variable's id (digits, '-') and any case, so '{Country}' or a misspelt
# '{ambassador-name}' is reported instead of being posted literally.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_][A-Za-z0-9_-]*)\}")


class UnknownPlaceholder(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def placeholders(template: str) -> set[str]:
    return {match.group(1) for match in _TOKEN.finditer(template) if match.group(1)}


def render(template: str, values: Mapping[str, str]) -> str:
    if "{" not in template and "}" not in template:
        return template

    def substitute(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0]
        if name not in values:
            raise UnknownPlaceholder(name)
        return values[name]

    return _TOKEN.sub(substitute, template)
