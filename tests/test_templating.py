"""Embassy-specific texts: placeholders, escaped braces and unknown names."""

from __future__ import annotations

import pytest

from scheduler.campaign.templating import UnknownPlaceholder, placeholders, render

VALUES = {
    "embassy": "Embassy of Belgium in Japan",
    "country": "Japan",
    "city": "Tokyo",
    "ambassador-name": "H.E. Ms. Example",
    "event_2": "a panel",
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{embassy} joins #OrangeTheWorld", "Embassy of Belgium in Japan joins #OrangeTheWorld"),
        ("From {city}, {country}: {city}!", "From Tokyo, Japan: Tokyo!"),
        ("{ambassador-name} opens {event_2}", "H.E. Ms. Example opens a panel"),
        ("{country}{city}", "JapanTokyo"),
    ],
)
def test_placeholders_are_replaced(template: str, expected: str) -> None:
    assert render(template, VALUES) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{embassy}}", "{embassy}"),
        ("{{{embassy}}}", "{Embassy of Belgium in Japan}"),
        ("a {{ b }} c", "a { b } c"),
        ("{{", "{"),
        ("}}", "}"),
        ("{{}}", "{}"),
    ],
)
def test_doubled_braces_write_literal_braces(template: str, expected: str) -> None:
    assert render(template, VALUES) == expected


@pytest.mark.parametrize(
    "template",
    ["{ x }", "{}", "a } b", "a { b", "{ embassy }", "set = {1, 2}", "{x y}", "{-x}", "{é}"],
)
def test_braces_that_are_not_placeholders_are_left_alone(template: str) -> None:
    assert render(template, VALUES) == template


@pytest.mark.parametrize("template", ["", "No braces at all.", "日本 🇧🇪 #16Days"])
def test_text_without_braces_is_returned_as_is(template: str) -> None:
    assert render(template, {}) is template


@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{ambassador}", "ambassador"),
        ("Hello {Country}", "Country"),  # names are case-sensitive: a typo, not a literal
        ("{embassy} and {misspelt-name}", "misspelt-name"),
        ("{{literal}} then {unknown}", "unknown"),
    ],
)
def test_unknown_placeholder_raises_with_its_name(template: str, name: str) -> None:
    with pytest.raises(UnknownPlaceholder) as caught:
        render(template, VALUES)
    assert caught.value.name == name
    assert isinstance(caught.value, KeyError)
    assert caught.value.args == (name,)


def test_substituted_values_are_not_expanded_again() -> None:
    values = {"embassy": "{country} {{x}}", "country": "Japan"}
    assert render("{embassy}", values) == "{country} {{x}}"


def test_an_empty_value_is_allowed() -> None:
    assert render("[{city}]", {"city": ""}) == "[]"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{embassy} in {city}, {embassy}", {"embassy", "city"}),
        ("{{embassy}} {country}", {"country"}),
        ("{ x } {}", set()),
        ("", set()),
    ],
)
def test_placeholders_lists_the_names_a_text_uses(template: str, expected: set[str]) -> None:
    assert placeholders(template) == expected
