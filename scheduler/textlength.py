"""Post length, counted the way each platform counts it.

X's weighted count comes from twitter-text (the twitter-text-parser port of its v3 rules), never
from a counter of our own. Mastodon counts user-perceived characters with every http(s) URL as 23
and a remote mention as its local part; Bluesky counts user-perceived characters (graphemes).
"""

from __future__ import annotations

from functools import lru_cache

import regex
from twitter_text import parse_tweet

from adapters.capabilities import LengthRule

MASTODON_URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")
# Mastodon's StatusLengthValidator: URLs with a scheme count as 23 characters, and
# '@user@domain' counts as '@user'.
_MASTODON_URL = regex.compile(r"(?<=^|[^\p{L}\p{N}/])https?://[^\s<>\"]+", regex.IGNORECASE)
_MASTODON_MENTION = regex.compile(r"(?<=^|[^\p{L}\p{N}_/])(@[\p{L}\p{N}_]+)@[\p{L}\p{N}.-]+\p{L}")


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


@lru_cache(maxsize=65536)
def text_length(text: str, rule: LengthRule) -> int:
    if rule is LengthRule.TWITTER_WEIGHTED:
        return int(parse_tweet(text).weightedLength)
    if rule is LengthRule.GRAPHEMES_URL_23:
        shortened = _MASTODON_URL.sub("x" * MASTODON_URL_LENGTH, text)
        return graphemes(_MASTODON_MENTION.sub(r"\1", shortened))
    return graphemes(text)
