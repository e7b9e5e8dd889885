"""Post length, counted the way each platform counts it.

X's weighted count comes from twitter-text (the twitter-text-parser port of its v3 rules), never
from a counter of our own. Mastodon counts user-perceived characters with every http(s) URL as 23
and a remote mention as its local part; Bluesky counts user-perceived characters (graphemes)
and caps UTF-8 bytes as well. :func:`too_long` says whether a text fits and, if not, what the
platform takes: the validator (and so the queue, which it checks) and the Bluesky adapter all
report through it.
"""

from __future__ import annotations

import re
import types
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import regex

from adapters.capabilities import Capabilities, LengthRule

MASTODON_URL_LENGTH = 23

_GRAPHEME = regex.compile(r"\X")
# Mastodon's StatusLengthValidator: URLs with a scheme count as 23 characters, and
# '@user@domain' counts as '@user'. Like twitter-text's URL rules, which Mastodon uses, a URL
# keeps balanced parentheses but ends before trailing punctuation: in 'see https://a.be/x.'
# the final '.' counts as a character of its own.
_URL_PAREN = r"\([^\s()<>\"]*\)"
_MASTODON_URL = regex.compile(
    rf"(?<=^|[^\p{{L}}\p{{N}}/])https?://(?:{_URL_PAREN}|[^\s()<>\"])*"
    rf"(?:{_URL_PAREN}|[^\s()<>\".,:;!?'])",
    regex.IGNORECASE,
)
_MASTODON_MENTION = regex.compile(r"(?<=^|[^\p{L}\p{N}_/])(@[\p{L}\p{N}_]+)@[\p{L}\p{N}.-]+\p{L}")


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


@lru_cache(maxsize=4096)
def text_length(text: str, rule: LengthRule) -> int:
    # A plan counts each delivery's text once (they differ by embassy): the cache is for the
    # texts counted again, such as a content warning, and stays small. The words are cached.
    if rule is LengthRule.TWITTER_WEIGHTED:
        return x_weighted_length(text)
    if rule is LengthRule.GRAPHEMES_URL_23:
        return _graphemes_by_words(text, _mastodon_word, _mastodon_length)
    return _graphemes_by_words(text, _graphemes_word, graphemes)


# Counting word by word. Every count here is a sum over the text's words and the spaces and
# line feeds between them, each of which counts 1: nothing the platforms count as one unit
# spans a space or a line feed (a URL, a mention, an emoji, a grapheme; NFC composes no
# character with either), and the patterns that look at what precedes a URL or a mention take
# the start of a word as they take a space. Campaign texts differ from one embassy to the next
# by a few words, so the words are counted once each, however many texts they are in.
# Exceptions, where the whole text is counted: '\r' ('\r\n' is one line ending, one
# grapheme); for graphemes, a word that begins with a mark joining the space before it, or
# ends with a prepended character joining the one after. tests/test_textlength.py compares
# both ways on mixed texts.
_JOINS_A_NEIGHBOUR = regex.compile(
    r"^[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=SpacingMark}"
    r"\p{Grapheme_Cluster_Break=ZWJ}]|\p{Grapheme_Cluster_Break=Prepend}$"
)
_JOINS = -1
"""A word's count when it joins a neighbour: the whole text must be counted."""
_WORDS_CACHED = 1 << 15


def _words(text: str) -> list[str]:
    return text.replace("\n", " ").split(" ")


def _by_words(text: str, count_word: Callable[[str], int]) -> int:
    words = _words(text)
    return len(words) - 1 + sum(map(count_word, words))


def _graphemes_by_words(
    text: str, count_word: Callable[[str], int], count_whole: Callable[[str], int]
) -> int:
    if "\r" not in text:
        words = _words(text)
        counts = list(map(count_word, words))
        if _JOINS not in counts:
            return len(words) - 1 + sum(counts)
    return count_whole(text)


def _mastodon_length(text: str) -> int:
    shortened = _MASTODON_URL.sub("x" * MASTODON_URL_LENGTH, text)
    return graphemes(_MASTODON_MENTION.sub(r"\1", shortened))


@lru_cache(maxsize=_WORDS_CACHED)
def _mastodon_word(word: str) -> int:
    return _JOINS if _JOINS_A_NEIGHBOUR.search(word) else _mastodon_length(word)


@lru_cache(maxsize=_WORDS_CACHED)
def _graphemes_word(word: str) -> int:
    return _JOINS if _JOINS_A_NEIGHBOUR.search(word) else graphemes(word)


def mastodon_length(text: str, url_weight: int = MASTODON_URL_LENGTH) -> int:
    """Mastodon's count on an instance whose ``characters_reserved_per_url`` is ``url_weight``."""
    extra = len(_MASTODON_URL.findall(text)) * (url_weight - MASTODON_URL_LENGTH)
    return text_length(text, LengthRule.GRAPHEMES_URL_23) + extra


def utf8_bytes(text: str) -> int:
    """The text's size in UTF-8, as a PDS measures a lexicon string's ``maxLength``."""
    return len(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class TooLong:
    """A text over a platform's limits."""

    length: int
    """Counted the platform's way (``LengthRule``)."""
    size: int
    """UTF-8 bytes."""
    expected: str
    """What the platform takes, and what this text is where the count alone does not show it:
    ``at most 280``, or ``at most 300 graphemes and 3,000 bytes of UTF-8 (this text is 3,250
    bytes)``."""


def too_long(
    text: str, capabilities: Capabilities, *, length: int | None = None, limit: int | None = None
) -> TooLong | None:
    """None if ``text`` fits the platform, else what it is over: its length (``length`` if the
    caller has counted it already, as the planner does with Mastodon's content warning) against
    ``limit`` (the account's own, else the platform's), and its UTF-8 bytes against
    ``capabilities.max_bytes`` where the platform caps those too. Bluesky does: its post lexicon
    takes 300 graphemes and 3,000 bytes, so 130 family emoji (25 bytes each) are refused."""
    limit = capabilities.max_length if limit is None else limit
    length = text_length(text, capabilities.length_rule) if length is None else length
    size, max_bytes = utf8_bytes(text), capabilities.max_bytes
    if length <= limit and (max_bytes is None or size <= max_bytes):
        return None
    if max_bytes is None:
        return TooLong(length, size, f"at most {limit}")
    unit = "graphemes" if capabilities.length_rule is LengthRule.GRAPHEMES else "characters"
    over = [f"{length:,} {unit}"] if length > limit else []
    over += [f"{size:,} bytes"] if size > max_bytes else []
    expected = f"at most {limit:,} {unit} and {max_bytes:,} bytes of UTF-8"
    return TooLong(length, size, f"{expected} (this text is {' and '.join(over)})")


# X's weighted count without twitter-text, for the common text that has no URL and no emoji of
# several code points. parse_tweet counts a URL as 23 and an emoji as 2, whatever their length;
# every other character as 1 in X's light ranges (Latin, Greek, Cyrillic, Hebrew, Arabic... and
# some punctuation) and as 2 elsewhere (CJK, emoji). An emoji of one code point outside the light
# ranges counts 2 either way, so for a text with
# - no URL: twitter-text finds none unless a '.' is followed by a domain's next letter;
# - no character that continues an emoji (variation selector, zero-width joiner, keycap, skin
#   tone, regional indicator, tag) nor one of the two light emoji (© and ®);
# - nothing that parse_tweet's NFC normalisation or line-ending conversion would change,
# the count is the text's length plus one for each character outside the light ranges.
# tests/test_textlength_parity.py checks these constants against the library's own config and
# emoji pattern, and the count against parse_tweet. Any other text goes to parse_tweet, whose
# import (~0.2 s: its emoji and URL patterns) only such a text pays for.
_URL_DOT = r"\.[^\s!-/:-@\[-`{-~]"
"""A '.' followed by what may begin a top-level domain: anything but a space or ASCII
punctuation. Every URL twitter-text finds has one (its domain's last dot, then a letter)."""
_X_NOT_PLAIN = re.compile(
    "[\r\u00a9\u00ae\ufe0f\u200d\u20e3\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff"
    "\U000e0020-\U000e007f]|" + _URL_DOT
)
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""twitter-text's v3 config: code points that weigh 1 (scale 100, weight 100); others weigh 2."""
_X_HEAVY = re.compile(
    "[^" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _X_LIGHT_RANGES) + "]"
)


def x_weighted_length(text: str) -> int:
    """X's weighted length of ``text``: twitter-text's ``parse_tweet(text).weightedLength``."""
    if "\r" in text:
        return _x_weighted_length(text)
    return _by_words(text, _x_word)


def _x_weighted_length(text: str) -> int:
    if _X_NOT_PLAIN.search(text) is None and unicodedata.is_normalized("NFC", text):
        return len(text) + len(_X_HEAVY.findall(text))
    return int(_parse_tweet_fast()(text).weightedLength)


_x_word = lru_cache(maxsize=_WORDS_CACHED)(_x_weighted_length)


def has_url(text: str) -> bool:
    """Whether twitter-text finds a URL in ``text`` (X bills such a post more), word by word:
    a URL is within a word (see "Counting word by word")."""
    return any(map(_word_has_url, _words(text)))


@lru_cache(maxsize=_WORDS_CACHED)
def _word_has_url(word: str) -> bool:
    if _MAYBE_URL.search(word) is None:  # twitter-text would find none: no need to load it
        return False
    from twitter_text import extract_urls

    return bool(extract_urls(word))


_MAYBE_URL = re.compile(_URL_DOT)


# X: twitter-text's own parse_tweet, with three of its helpers swapped for faster equivalents.
#
# parse_tweet costs ~3 ms a post, two thirds of it in extract_emojis_with_indices: at every
# position of the text, its emoji regex tries each of its ~2,500 alternatives. We run parse_tweet's
# own code (same body: NFC, URL rules, counting loop, weights, scale, validity) in a namespace
# where these helpers return exactly what the library's return, only sooner:
# - emoji extraction runs the library's own regex, but only at characters where a match can
#   begin: the first characters of its alternatives, read from the pattern's source text;
# - a character's weight and whether it is invalid are pure functions of that one character,
#   so they are remembered.
# Should the library change shape, each swap falls back to the original helper.
# tests/test_textlength_parity.py compares the results with plain parse_tweet.

# The shape of twitter-text's emoji pattern: alternatives of code point escapes, each either a
# sequence or one character set. Any other pattern is left to the library's own extraction.
_ESCAPE = r"\\U([0-9A-Fa-f]{8})"
_SEQUENCE = re.compile(rf"(?:{_ESCAPE})+")
_SET = re.compile(rf"\[(?:{_ESCAPE}(?:-{_ESCAPE})?)+\]")
_CODE_POINT = re.compile(_ESCAPE)
_RANGE = re.compile(rf"{_ESCAPE}(?:-{_ESCAPE})?")


@dataclass(frozen=True)
class _MatchStarts:
    """Where a match of an alternation of code point sequences and character sets can begin."""

    scan: re.Pattern[str]
    """Every character that some alternative begins with."""
    singles: frozenset[str]
    """A match may begin at this character, whatever follows it."""
    pairs: frozenset[str]
    """Or only with these two characters."""

    def possible(self, text: str, start: int) -> bool:
        return text[start] in self.singles or text[start : start + 2] in self.pairs


def _set_members(alternative: str) -> set[str] | None:
    members: set[str] = set()
    for match in _RANGE.finditer(alternative):
        low = int(match.group(1), 16)
        high = int(match.group(2) or match.group(1), 16)
        if high - low >= 0x10000:
            return None  # a huge range: not worth it
        members.update(map(chr, range(low, high + 1)))
    return members


def _match_starts(pattern: re.Pattern[str]) -> _MatchStarts | None:
    """Read off the pattern's source; None unless it is an alternation of code point sequences
    and character sets, matched case-sensitively."""
    if pattern.flags & re.IGNORECASE:
        return None
    singles: set[str] = set()
    pairs: set[str] = set()
    for alternative in pattern.pattern.split("|"):
        if _SET.fullmatch(alternative):
            members = _set_members(alternative)
            if members is None:
                return None
            singles |= members
        elif _SEQUENCE.fullmatch(alternative):
            chars = "".join(chr(int(code, 16)) for code in _CODE_POINT.findall(alternative)[:2])
            if len(chars) > 1:
                pairs.add(chars)
            else:
                singles.add(chars)
        else:
            return None
    firsts = singles | {pair[0] for pair in pairs}
    if not firsts:
        return None
    return _MatchStarts(_coarse_set(firsts), frozenset(singles), frozenset(pairs))


def _coarse_set(chars: set[str], gap: int = 64) -> re.Pattern[str]:
    """A character set with every one of ``chars``, a few others between close ones.

    re tests a set holding characters beyond U+FFFF range by range: ~20 ranges scan three times
    faster than the ~150 exact ones, and ``possible`` rules out the extra characters.
    """
    ranges: list[list[int]] = []
    for code in sorted(map(ord, chars)):
        if ranges and code - ranges[-1][1] <= gap:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges) + "]")


def _fast_emoji_extraction(original: Callable[[str], Any]) -> Callable[[str], Any]:
    emoji = getattr(original, "__globals__", {}).get("emoji")
    starts = _match_starts(emoji) if isinstance(emoji, re.Pattern) else None
    if emoji is None or starts is None:
        return original

    def extract_emojis_with_indices(text: str) -> list[dict[str, Any]]:
        # finditer tries a match at every position from the end of the previous match on; only
        # the positions where a match can begin may succeed, so try those alone, in order.
        found: list[dict[str, Any]] = []
        end = 0
        for candidate in starts.scan.finditer(text):
            start = candidate.start()
            if start < end or not starts.possible(text, start):
                continue
            match = emoji.match(text, start)
            if match is not None:
                found.append({"emoji": match.group(0), "indices": [start, match.end()]})
                end = match.end()
        return found

    return extract_emojis_with_indices


def _remembered_weight(original: Callable[[str, Any], int], options: Any) -> Callable[..., int]:
    weights: dict[str, int] = {}  # at most one entry per distinct character

    def get_character_weight(char: str, given: Any) -> int:
        if given is not options:
            return original(char, given)
        weight = weights.get(char)
        if weight is None:
            weight = weights[char] = original(char, given)
        return weight

    return get_character_weight


@cache
def _parse_tweet_fast() -> Callable[[str], Any]:
    """parse_tweet with the faster helpers, made on first use: twitter-text loads slowly."""
    from twitter_text import parse_tweet

    library: dict[str, Any] = parse_tweet.__globals__
    names = ("extract_emojis_with_indices", "get_character_weight", "has_invalid_characters")
    if not all(name in library and name in parse_tweet.__code__.co_names for name in names):
        return parse_tweet  # type: ignore[no-any-return]
    helpers = {
        "extract_emojis_with_indices": _fast_emoji_extraction(library[names[0]]),
        "get_character_weight": _remembered_weight(library[names[1]], parse_tweet.__defaults__[0]),
        "has_invalid_characters": lru_cache(maxsize=4096)(library[names[2]]),
    }
    return types.FunctionType(
        parse_tweet.__code__,
        {**library, **helpers},
        parse_tweet.__name__,
        parse_tweet.__defaults__,
        parse_tweet.__closure__,
    )


def __getattr__(name: str) -> Any:
    # ``_parse_tweet`` is made on first use (tests/test_textlength_parity.py compares it).
    if name == "_parse_tweet":
        return _parse_tweet_fast()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
