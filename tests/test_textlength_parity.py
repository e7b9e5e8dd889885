"""The faster X counter in adapters.textlength gives exactly what twitter-text's parse_tweet gives.

adapters.textlength runs parse_tweet's own code with three helpers swapped for faster
equivalents. These tests compare every field of the result with the library's plain function,
on the upstream conformance texts and on emoji-dense, mixed-script campaign texts.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from twitter_text import parse_tweet

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
