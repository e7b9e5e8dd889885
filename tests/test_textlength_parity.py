"""The faster X counter in adapters.textlength gives exactly what twitter-text's parse_tweet gives.

adapters.textlength runs parse_tweet's own code with three helpers swapped for faster
equivalents. These tests compare every field of the result with the library's plain function,
on the upstream conformance texts and on emoji-dense, mixed-script campaign texts.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from twitter_text import extract_urls, parse_tweet

from adapters import textlength

CONFORMANCE = Path(__file__).parent / "data" / "twitter_text_conformance.yml"

PIECES = [
    "16 Days of Activism ",
    "#NoExcuse ",
    "https://diplomatie.belgium.be/en/16days ",
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag: a ZWJ sequence
    "\U0001f44d\U0001f3fd",  # thumbs up with a skin tone
    "\U0001f1e7\U0001f1ea",  # Belgian flag: regional indicators
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag sequence
    "\u2764\ufe0f",  # heart with variation selector
    "\u00a9 ",  # a text-default emoji
    "Geweld tegen vrouwen ",
    "violence numérique ",
    "女性に対するデジタル暴力 ",
    "العنف الرقمي ",
    "@UN_Women ",
    "\u200b",
    "1\ufe0f\u20e3",  # keycap
]


def _fields(result: Any) -> dict[str, Any]:
    return {
        name: getattr(result, name)
        for name in ("weightedLength", "permillage", "valid", "validRangeStart", "validRangeEnd")
    } | {"display": (result.displayRangeStart, result.displayRangeEnd)}


def _conformance_texts() -> list[str]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(CONFORMANCE.read_text("utf-8"))
    return [case["text"] for section in data["tests"].values() for case in section]


def test_the_faster_counter_is_in_use() -> None:
    # If twitter-text changed shape, textlength falls back to the plain function: still right,
    # only slower. This test says so, so that the benchmark figures are not misread.
    assert textlength._parse_tweet is not parse_tweet


@pytest.mark.parametrize("text", _conformance_texts())
def test_same_result_as_twitter_text_on_its_conformance_texts(text: str) -> None:
    assert _fields(textlength._parse_tweet(text)) == _fields(parse_tweet(text))


@pytest.mark.parametrize("seed", range(200))
def test_same_result_on_emoji_dense_mixed_texts(seed: int) -> None:
    generator = random.Random(seed)
    text = "".join(generator.choices(PIECES, k=generator.randint(1, 40)))
    assert _fields(textlength._parse_tweet(text)) == _fields(parse_tweet(text))


# The count without twitter-text (adapters.textlength.x_weighted_length) rests on facts about the
# library's configuration and emoji pattern: these tests check them on the installed library.


def test_the_light_ranges_are_the_librarys() -> None:
    from twitter_text.config import config

    options = config["defaults"]
    assert (options["scale"], options["default_weight"]) == (100, 200)
    assert options["emoji_parsing_enabled"] is True
    ranges = tuple((r["start"], r["end"]) for r in options["ranges"])
    assert ranges == textlength._X_LIGHT_RANGES
    assert all(r["weight"] == 100 for r in options["ranges"])


def _emoji_alternatives() -> list[list[str]]:
    """Each alternative of the library's emoji pattern as the code points it may match first
    (a set's members) or in order (a sequence's)."""
    from twitter_text.extract_emojis import extract_emojis_with_indices

    pattern = extract_emojis_with_indices.__globals__["emoji"].pattern
    found = []
    for alternative in pattern.split("|"):
        if alternative.startswith("["):
            for match in textlength._RANGE.finditer(alternative):
                low = int(match.group(1), 16)
                high = int(match.group(2) or match.group(1), 16)
                found += [[chr(code)] for code in range(low, high + 1)]
        else:
            found.append(
                [chr(int(code, 16)) for code in textlength._CODE_POINT.findall(alternative)]
            )
    return found


def test_every_emoji_the_plain_count_could_miscount_makes_a_text_not_plain() -> None:
    alternatives = _emoji_alternatives()
    assert len(alternatives) > 1000
    for chars in alternatives:
        if len(chars) > 1:  # a sequence: one of its later code points is never plain
            assert any(textlength._X_NOT_PLAIN.match(char) for char in chars[1:]), chars
        elif not textlength._X_HEAVY.match(chars[0]):  # a light emoji: counted 2, not 1
            assert textlength._X_NOT_PLAIN.match(chars[0]), chars


URL_TEXTS = [
    "see example.com today",
    "un.org",
    "Visit HTTPS://diplomatie.belgium.be/en/16days.",
    "a.b.c. d. e.",
    "end of sentence.Next",
    "日本.中国 and 例え.テスト",
    "t.co/abc x.y",
    "email me: someone@example.org.",
    "punycode.xn--p1ai",
    "1.5 million, 3.14",
    "…. .. .\t.\n.",
]


@pytest.mark.parametrize("text", [*_conformance_texts(), *URL_TEXTS])
def test_same_weighted_length_as_twitter_text_on_its_conformance_texts(text: str) -> None:
    assert textlength.x_weighted_length(text) == parse_tweet(text).weightedLength


@pytest.mark.parametrize("seed", range(200))
def test_same_weighted_length_on_mixed_texts(seed: int) -> None:
    generator = random.Random(seed)
    pieces = [
        *PIECES,
        *URL_TEXTS,
        "Ça va ",
        "\u0065\u0301 ",
        "\u2018quoted\u2019 ",
        "\r\n",
        "🧡 ",
        "✊🏽",
    ]
    text = "".join(generator.choices(pieces, k=generator.randint(1, 40)))
    assert textlength.x_weighted_length(text) == parse_tweet(text).weightedLength


def test_a_plain_text_is_counted_without_twitter_text() -> None:
    # The point of the plain count: validating a campaign need not load twitter-text (~0.2 s).
    code = (
        "import sys\n"
        "from adapters.textlength import x_weighted_length\n"
        "assert x_weighted_length('Jour 1 des #16Days : ensemble 🧡. Rejoignez-nous !') == 50\n"
        "assert 'twitter_text' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("seed", range(100))
def test_has_url_says_what_extract_urls_says(seed: int) -> None:
    generator = random.Random(seed)
    pieces = [*PIECES, *URL_TEXTS, "\n", " ", "(", ")", "@", "$", "-", "/", "."]
    text = "".join(generator.choices(pieces, k=generator.randint(1, 20)))
    assert textlength.has_url(text) == bool(extract_urls(text))


@pytest.mark.parametrize("text", [*_conformance_texts(), *URL_TEXTS])
def test_has_url_on_the_conformance_texts(text: str) -> None:
    assert textlength.has_url(text) == bool(extract_urls(text))
