"""Post length, counted the way X, Mastodon and Bluesky count it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from twitter_text import parse_tweet

from adapters import textlength
from adapters.capabilities import CAPABILITIES, LengthRule, Platform
from adapters.textlength import MASTODON_URL_LENGTH, graphemes, text_length

CONFORMANCE = Path(__file__).parent / "data" / "twitter_text_conformance.yml"

X = LengthRule.TWITTER_WEIGHTED
MASTODON = LengthRule.GRAPHEMES_URL_23
BLUESKY = LengthRule.GRAPHEMES

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # man, woman, girl, boy
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"
BELGIAN_FLAG = "\U0001f1e7\U0001f1ea"
SCOTTISH_FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
LONG_URL = "https://diplomatie.belgium.be/en/policy/" + "human-rights/" * 8


def _conformance() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(CONFORMANCE.read_text("utf-8"))
    return data


def _conformance_cases() -> list[Any]:
    return [
        pytest.param(case["text"], case["expected"]["weightedLength"], id=case["description"])
        for section in _conformance()["tests"].values()
        for case in section
    ]


@pytest.mark.parametrize(("text", "weighted_length"), _conformance_cases())
def test_x_matches_twitter_text_conformance(text: str, weighted_length: int) -> None:
    assert text_length(text, X) == weighted_length


def test_vendored_conformance_names_its_source_and_license() -> None:
    header = CONFORMANCE.read_text("utf-8").split("\ntests:")[0]
    assert "github.com/twitter/twitter-text" in header
    assert "validate.yml" in header
    assert "Apache License, Version 2.0" in header
    sections = _conformance()["tests"]
    assert "WeightedTweetsWithDiscountedEmojiCounterTest" in sections
    assert sum(len(cases) for cases in sections.values()) >= 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("日本国大使館", 12),  # CJK weighs 2
        (FAMILY, 2),  # an emoji sequence weighs 2, whatever its length in code points
        (BELGIAN_FLAG, 2),
        ("Café" + " " + LONG_URL, 5 + 23),  # every URL weighs 23, however long
        ("belgium.be", 23),  # X links bare domains too
    ],
)
def test_x_weights_scripts_emoji_and_urls(text: str, expected: int) -> None:
    assert text_length(text, X) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LONG_URL, MASTODON_URL_LENGTH),
        ("http://x.co", MASTODON_URL_LENGTH),  # short URLs count 23 too
        ("HTTPS://BELGIUM.BE/EN/AN/UPPER/CASE/PATH", MASTODON_URL_LENGTH),
        (f"Read {LONG_URL} today", len("Read ") + 23 + len(" today")),
        (f"{LONG_URL} {LONG_URL}", 23 + 1 + 23),
    ],
)
def test_mastodon_counts_every_http_url_as_23(text: str, expected: int) -> None:
    assert text_length(text, MASTODON) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("See https://diplomatie.belgium.be/en.", len("See ") + 23 + len(".")),
        ("More: https://belgium.be/en!", len("More: ") + 23 + len("!")),
        ("(https://belgium.be/en)", 1 + 23 + 1),
        ("https://en.wikipedia.org/wiki/Diplomacy_(disambiguation)", 23),
    ],
)
def test_mastodon_leaves_sentence_punctuation_out_of_a_url(text: str, expected: int) -> None:
    """Mastodon's extractor (twitter-text's URL rules) ends a URL before a closing '.', '!' or
    an unbalanced ')'; those characters count on their own."""
    assert text_length(text, MASTODON) == expected


@pytest.mark.parametrize(
    "text",
    [
        "belgium.be",
        "www.diplomatie.belgium.be/en/policy",
        "ftp://belgium.be/files",
        "xhttps://a.be",
    ],
)
def test_mastodon_counts_text_without_an_http_scheme_in_full(text: str) -> None:
    assert text_length(text, MASTODON) == len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@belgium@mastodon.social", len("@belgium")),
        ("Thanks @unwomen@social.example.org!", len("Thanks @unwomen!")),
        ("@belgium", len("@belgium")),
        ("write to press@diplomatie.belgium.be", len("write to press@diplomatie.belgium.be")),
    ],
)
def test_mastodon_counts_a_remote_mention_as_its_local_part(text: str, expected: int) -> None:
    assert text_length(text, MASTODON) == expected


@pytest.mark.parametrize("rule", [MASTODON, BLUESKY])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FAMILY, 1),
        (RAINBOW_FLAG, 1),
        (THUMBS_UP_MEDIUM, 1),
        (BELGIAN_FLAG, 1),
        (SCOTTISH_FLAG, 1),
        ("Cafe\u0301", 4),  # e + combining acute is one character on screen
        ("e\u0301\u0323", 1),
        ("\u1100\u1161\u11a8", 1),  # a Hangul syllable written as three jamo
        ("日本国大使館", 6),
        (f"{BELGIAN_FLAG} {FAMILY}!", 4),
    ],
)
def test_graphemes_count_what_a_reader_sees(rule: LengthRule, text: str, expected: int) -> None:
    assert text_length(text, rule) == expected


@pytest.mark.parametrize(
    "text",
    [
        LONG_URL,
        f"Read {LONG_URL} today",
        "@belgium@mastodon.social",
        "belgium.be",
    ],
)
def test_bluesky_counts_urls_and_mentions_in_full(text: str) -> None:
    assert text_length(text, BLUESKY) == len(text)


def test_one_text_counts_differently_on_each_platform() -> None:
    text = f"日本 {FAMILY} {LONG_URL} @belgium@mastodon.social"
    counts = {rule: text_length(text, rule) for rule in LengthRule}
    assert counts == {
        X: 4 + 1 + 2 + 1 + 23 + 1 + len("@belgium@mastodon.social"),
        MASTODON: 2 + 1 + 1 + 1 + 23 + 1 + len("@belgium"),
        BLUESKY: 2 + 1 + 1 + 1 + len(LONG_URL) + 1 + len("@belgium@mastodon.social"),
    }


def test_each_platform_declares_the_rule_it_counts_with() -> None:
    assert CAPABILITIES[Platform.X].length_rule is X
    assert CAPABILITIES[Platform.MASTODON].length_rule is MASTODON
    assert CAPABILITIES[Platform.BLUESKY].length_rule is BLUESKY


def test_empty_text_is_zero_everywhere() -> None:
    assert [text_length("", rule) for rule in LengthRule] == [0, 0, 0]
    assert graphemes("") == 0


WORDS = [
    "Day 1 of #16Days",
    "e\u0301t\u00e9",
    "\u0301",  # a mark that joins the space before it
    "\u0600",  # a prepended character that joins what follows
    "\U0001f44d\U0001f3fd",
    "\U0001f3fd",
    "\U0001f1e7\U0001f1ea",
    "\U0001f469\u200d\U0001f4bb",
    "\u200d",
    "https://diplomatie.belgium.be/en/16days",
    "(https://a.be/x_(y))",
    "https://a.be/x.",
    "@unwomen@mastodon.social",
    "@UN_Women",
    "un.org",
    "\u0915\u094d\u0937",
    "\u65e5\u672c\u8a9e",
    "\r",
    "",
]


@pytest.mark.parametrize("seed", range(300))
def test_counting_word_by_word_gives_the_whole_texts_count(seed: int) -> None:
    generator = random.Random(seed)
    separators = [" ", "\n", "  ", "\r\n", ""]
    text = "".join(
        generator.choice(WORDS) + generator.choice(separators)
        for _ in range(generator.randint(1, 30))
    )
    assert text_length(text, X) == parse_tweet(text).weightedLength
    assert text_length(text, MASTODON) == textlength._mastodon_length(text)
    assert text_length(text, BLUESKY) == graphemes(text)
