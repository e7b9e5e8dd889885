"""The dashboard's style sheet meets WCAG 2.2 AA contrast: every colour is a custom property of
its ``:root``, named by the role it plays (docs/web.md, "The style sheet"), and each pair that
the names make is measured with WCAG's formula; a colour written anywhere else is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

import pytest

from scheduler.store.states import DeliveryState

TEXT = 4.5  # WCAG 1.4.3: text
UI = 3.0  # WCAG 1.4.11: boundaries and focus rings

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_VAR = re.compile(r"var\(\s*(--[\w-]+)\s*\)")
_COLOUR_PROPERTY = re.compile(
    r"^(color|background(-color)?|border(-(top|right|bottom|left|block|inline))?(-color)?"
    r"|outline(-color)?|box-shadow|text-decoration(-color)?|accent-color|caret-color|fill|stroke)$"
)
# What may stand in a colour property besides var(): sizes, styles and keywords, never a colour.
_NOT_COLOUR = re.compile(
    r"-?[\d.]+(px|rem|em|%|vh|vw)?|solid|dashed|dotted|double|none|inset|transparent"
    r"|currentcolor|inherit|initial|unset|underline|!important|,|/"
)


@dataclass(frozen=True)
class Rule:
    selector: str
    declarations: dict[str, str]


def parse(css: str) -> list[Rule]:
    """The rules of a style sheet, those inside ``@media`` included (their selectors prefixed
    with the at-rule)."""
    rules: list[Rule] = []
    _parse(_COMMENT.sub("", css), "", rules)
    return rules


def _parse(css: str, prefix: str, rules: list[Rule]) -> None:
    position = 0
    while (opening := css.find("{", position)) != -1:
        selector, depth, end = css[position:opening].strip(), 1, opening + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        body = css[opening + 1 : end - 1]
        if selector.startswith("@"):
            _parse(body, f"{selector} ", rules)
        else:
            rules.append(Rule(prefix + selector, _declarations(body)))
        position = end


def _declarations(body: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in body.split(";") if item.strip())
    return {name.strip(): value.strip() for name, value in pairs}


def palette(rules: list[Rule]) -> dict[str, str]:
    """Every custom property of ``:root``, resolved to a #rrggbb colour where it is one."""
    declared = {
        name: value
        for rule in rules
        if rule.selector == ":root"
        for name, value in rule.declarations.items()
        if name.startswith("--")
    }

    def resolve(name: str, seen: tuple[str, ...] = ()) -> str:
        assert name not in seen, f"{name} refers to itself through {seen}"
        value = declared[name]
        reference = _VAR.fullmatch(value)
        return resolve(reference.group(1), (*seen, name)) if reference else value

    return {name: resolve(name) for name in declared}


def luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of a #rgb or #rrggbb colour."""
    digits = _HEX.fullmatch(colour)
    assert digits, f"{colour!r}: expected #rgb or #rrggbb"
    text = digits.group(1)
    if len(text) == 3:
        text = "".join(letter * 2 for letter in text)
    channels = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def pairs(colours: dict[str, str]) -> list[tuple[str, str, float]]:
    """(foreground, background, minimum ratio) for every pair the names make."""
    surfaces = [name for name in colours if name.startswith("--surface-")]
    found: list[tuple[str, str, float]] = []
    for name in colours:
        if name.startswith("--text-"):
            found += [(name, surface, TEXT) for surface in surfaces]
        elif name.startswith("--ui-"):
            found += [(name, surface, UI) for surface in surfaces]
        elif name.endswith("-fg"):
            found.append((name, name.removesuffix("-fg") + "-bg", TEXT))
        elif name.endswith("-ui"):
            found.append((name, name.removesuffix("-ui") + "-bg", UI))
    return found


def low_contrast(css: str) -> list[str]:
    """Each pair of ``css``'s palette below its minimum, said in words."""
    colours = palette(parse(css))
    failures = []
    for foreground, background, minimum in pairs(colours):
        if background not in colours:
            failures.append(f"{foreground} has no {background} to be read on")
            continue
        ratio = contrast(colours[foreground], colours[background])
        if ratio < minimum:
            failures.append(
                f"{foreground} {colours[foreground]} on {background} {colours[background]}: "
                f"{ratio:.2f}:1, below {minimum}:1"
            )
    return failures


@pytest.fixture(scope="module")
def css() -> str:
    return files("scheduler.views").joinpath("static", "web.css").read_text("utf-8")


@pytest.fixture(scope="module")
def rules(css: str) -> list[Rule]:
    return parse(css)


def test_the_formula_gives_wcags_figures() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#fff", "#fff") == pytest.approx(1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_a_low_contrast_colour_is_caught() -> None:
    sheet = ":root{--surface-page:#fff;--text-grey:#777;--note-fg:#777;--note-bg:#fff;"
    sheet += "--ui-edge:#aaa;--box-ui:#ccc;--box-bg:#fff;--lonely-fg:#000}"
    assert low_contrast(sheet) == [
        "--text-grey #777 on --surface-page #fff: 4.48:1, below 4.5:1",
        "--note-fg #777 on --note-bg #fff: 4.48:1, below 4.5:1",
        "--ui-edge #aaa on --surface-page #fff: 2.32:1, below 3.0:1",
        "--box-ui #ccc on --box-bg #fff: 1.61:1, below 3.0:1",
        "--lonely-fg has no --lonely-bg to be read on",
    ]


def test_every_pair_of_the_palette_meets_wcag_aa(css: str) -> None:
    assert not low_contrast(css), "\n".join(low_contrast(css))


def test_the_palette_names_pairs_to_check(rules: list[Rule]) -> None:
    kinds = {minimum for *_, minimum in pairs(palette(rules))}
    assert kinds == {TEXT, UI}
    assert len(pairs(palette(rules))) >= 40


def test_every_colour_is_a_palette_entry(rules: list[Rule]) -> None:
    colours = palette(rules)
    literal = []
    for rule in rules:
        if rule.selector == ":root":
            continue
        for name, value in rule.declarations.items():
            if not _COLOUR_PROPERTY.match(name):
                continue
            for used in _VAR.findall(value):
                assert used in colours, f"{rule.selector} {{{name}: {value}}}: {used} is undefined"
            rest = _NOT_COLOUR.sub(" ", _VAR.sub(" ", value.lower())).split()
            if rest:
                literal.append(f"{rule.selector} {{{name}: {value}}}")
    assert not literal, "colours outside the palette:\n" + "\n".join(literal)


def test_a_literal_colour_is_caught() -> None:
    (rule,) = parse(".x{border: 1px solid red}")
    rest = _NOT_COLOUR.sub(" ", rule.declarations["border"]).split()
    assert rest == ["red"]


def test_the_palette_holds_only_colours_and_references(rules: list[Rule]) -> None:
    for name, value in palette(rules).items():
        assert _HEX.fullmatch(value), f"{name}: {value} is not a #rgb or #rrggbb colour"


def test_the_focus_ring_is_visible_everywhere(rules: list[Rule]) -> None:
    rings = {rule.selector: rule.declarations for rule in rules if "focus-visible" in rule.selector}
    assert rings[":focus-visible"]["outline"].startswith("3px solid var(--ui-focus)")
    for selector, declarations in rings.items():
        colour = declarations.get("outline-color", declarations.get("outline", ""))
        assert re.search(r"var\(--(ui-[\w-]+|[\w-]+-ui)\)", colour), selector


@pytest.mark.parametrize("state", [*(state.value for state in DeliveryState), "paused"])
def test_every_state_has_a_badge(rules: list[Rule], state: str) -> None:
    selectors = [rule.selector for rule in rules]
    assert any(re.search(rf"\.state-{state}\b(?!::)", s) for s in selectors), state
    sign = f".state-{state}::before"
    assert any(sign in s for s in selectors), f"{state}: a sign beside the word, not colour alone"
