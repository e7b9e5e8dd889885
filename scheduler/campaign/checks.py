"""Rules that span several fields of a campaign file.

``check_structure`` runs on the typed file before planning (references, ids, time zones,
schedules, secrets); ``check_deliveries`` runs on the plan, where every text has been rendered
for its embassy and platform, so lengths and media are checked exactly as they will go out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from adapters.capabilities import CAPABILITIES, Platform
from adapters.textlength import TooLong
from scheduler.campaign.loader import LoadedCampaign
from scheduler.campaign.model import Embassy, Image, Post, Replies
from scheduler.campaign.planner import Delivery, Plan, post_languages, targeted_embassies
from scheduler.campaign.sourcemap import leaves
from scheduler.campaign.timing import zone
from scheduler.problems import (
    SECRET_PATTERNS,
    FieldPath,
    Problem,
    error,
    looks_like_secret,
    quoted,
    warning,
)

IDENTICAL_X_TEXT_ACCOUNTS = 2
"""From this many X accounts posting one text, warn: X treats it as platform manipulation."""

_CREDENTIALS_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_X_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,15}$")
_MASTODON_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,30}(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?$")
_BLUESKY_HANDLE = re.compile(r"^@?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$", re.I)
_INSTANCE = re.compile(
    r"^https://[a-z0-9.-]+(:\d+)?/?$|^http://(127\.0\.0\.1|localhost)(:\d+)?/?$", re.I
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)
"""The dates a campaign may use: far from the ends of Python's calendar (years 1 and 9999),
where converting a time to another zone overflows."""
_INSTANT_EARLIEST = dt.datetime.combine(EARLIEST, dt.time(), dt.UTC)
_INSTANT_LATEST = dt.datetime.combine(LATEST, dt.time.max, dt.UTC)
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_RUN_TOGETHER = re.compile(r"^[a-z]{10,}$")


def check_structure(loaded: LoadedCampaign) -> list[Problem]:
    spec = loaded.spec
    found: list[Problem] = []
    found += _window(loaded)
    found += _duplicate_ids("embassies", [embassy.id for embassy in spec.embassies])
    found += _duplicate_ids("posts", [post.id for post in spec.posts])
    for index, embassy in enumerate(spec.embassies):
        found += _embassy(index, embassy)
    regions = {e.region for e in spec.embassies if e.region}
    tags = {tag for e in spec.embassies for tag in e.tags}
    ids = {e.id for e in spec.embassies}
    for index, post in enumerate(spec.posts):
        found += _post(loaded, index, post)
        found += _targets(index, post, ids, regions, tags)
    strings = list(_raw_strings(spec.model_dump(by_alias=True)))
    found += _secrets(loaded.source.values, strings)
    found += _control_characters(strings)
    found += _run_together_hashtags(loaded)
    return [loaded.source.locate(problem) for problem in found]


def _window(loaded: LoadedCampaign) -> Iterator[Problem]:
    window = loaded.spec.campaign.window
    for key in ("start", "end"):
        day: dt.date = getattr(window, key)
        if not EARLIEST <= day <= LATEST:
            yield error(
                "invalid-value",
                ("campaign", "window", key),
                f"found {day}, outside the years a campaign can be planned in",
                f"a date from {EARLIEST} to {LATEST}",
            )
    if window.end < window.start:
        yield error(
            "window",
            ("campaign", "window", "end"),
            f"the campaign ends ({window.end}) before it starts ({window.start})",
            "an end date on or after the start date",
        )


def _duplicate_ids(section: str, ids: list[str]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in first:
            yield error(
                "duplicate-id",
                (section, index, "id"),
                f"id '{item_id}' is already used by {section}[{first[item_id]}]",
                "an id used once",
            )
        else:
            first[item_id] = index


def _embassy(index: int, embassy: Embassy) -> Iterator[Problem]:
    path: FieldPath = ("embassies", index)
    if zone(embassy.timezone) is None:
        yield error(
            "time-zone",
            (*path, "timezone"),
            f"{quoted(embassy.timezone)} is not a time zone",
            "an IANA time zone such as 'Europe/Brussels' or 'Asia/Kathmandu'",
        )
    repeated = [lang for lang, count in Counter(embassy.languages).items() if count > 1]
    if repeated:
        yield error(
            "duplicate-language",
            (*path, "languages"),
            f"{quoted(repeated[0])} is listed twice",
            "each language once",
        )
    accounts = embassy.accounts.by_platform()
    if not accounts:
        yield warning(
            "no-accounts",
            (*path, "accounts"),
            f"{embassy.id} has no account, so nothing will be posted for it",
        )
    for platform, account in accounts.items():
        account_path: FieldPath = (*path, "accounts", str(platform))
        yield from _account_fields(account_path, platform, account.handle, account.credentials)
        instance = getattr(account, "instance", None)
        if instance is not None and not _INSTANCE.match(instance):
            yield error(
                "instance",
                (*account_path, "instance"),
                f"found {quoted(instance)}",
                "the server's https:// address, such as 'https://mastodon.social'",
            )


def _account_fields(
    path: FieldPath, platform: Platform, handle: str, credentials: str
) -> Iterator[Problem]:
    pattern, example = {
        Platform.X: (_X_HANDLE, "'@BelgiumInJapan' (at most 15 letters, digits or '_')"),
        Platform.MASTODON: (_MASTODON_HANDLE, "'@belgium' or '@belgium@mastodon.social'"),
        Platform.BLUESKY: (_BLUESKY_HANDLE, "a domain-style handle such as 'belgium.bsky.social'"),
    }[platform]
    if not pattern.match(handle):
        yield error("handle", (*path, "handle"), f"found {quoted(handle)}", example)
    secret = looks_like_secret(credentials)
    if secret:
        yield error(
            "secret-in-file",
            (*path, "credentials"),
            f"this looks like {secret}: secrets never go in the campaign file",
            "the name of an entry in the secrets store, such as 'be-tokyo-x'",
        )
    elif not _CREDENTIALS_NAME.match(credentials):
        yield error(
            "credentials-name",
            (*path, "credentials"),
            f"found {quoted(credentials, limit=60)}",
            "a name such as 'be-tokyo-x': lower-case letters, digits, '.', '-' or '_'",
        )


def _post(loaded: LoadedCampaign, index: int, post: Post) -> Iterator[Problem]:
    path: FieldPath = ("posts", index)
    given = [name for name in ("day", "date", "at") if getattr(post, name) is not None]
    if len(given) != 1:
        yield error(
            "schedule",
            path if not given else (*path, given[-1]),
            f"post '{post.id}' gives {' and '.join(given) or 'no date'}",
            "exactly one of 'day', 'date' or 'at'",
        )
    yield from _post_when(loaded, path, post)
    if (post.text is None) == (post.thread is None):
        yield error(
            "content",
            path,
            f"post '{post.id}' has "
            + ("both 'text' and 'thread'" if post.text else "neither 'text' nor 'thread'"),
            "either 'text' (one post) or 'thread' (several parts)",
        )
        return  # without exactly one of them the post has no parts to look into
    if post.thread is not None and (post.variants or post.images):
        key = "variants" if post.variants else "images"
        yield error(
            "content",
            (*path, key),
            f"'{key}' belongs inside each part of a thread",
            "'text', 'variants' and 'images' under each item of 'thread'",
        )
    elif not post_languages(post):
        yield error(
            "thread-languages",
            (*path, "thread"),
            "no language is present in every part of the thread",
            "each part written in the same languages",
        )
    for number, part in enumerate(post.parts()):
        for image_number, image in enumerate(part.images):
            yield from _image((*path, *post.part_path(number), "images", image_number), image)


def _post_when(loaded: LoadedCampaign, path: FieldPath, post: Post) -> Iterator[Problem]:
    window = loaded.spec.campaign.window
    days = (window.end - window.start).days + 1
    # An inverted window (days < 1) is reported once by _window, not again for every post.
    if days >= 1 and post.day is not None and post.day > days:
        yield error(
            "outside-window",
            (*path, "day"),
            f"day {post.day} is after the campaign",
            f"a day from 1 to {days} ({window.start} to {window.end})",
        )
    if days >= 1 and post.date is not None and not window.start <= post.date <= window.end:
        yield error(
            "outside-window",
            (*path, "date"),
            f"{post.date} is outside the campaign",
            f"a date from {window.start} to {window.end}",
        )
    if post.at is None:
        return
    if post.time is not None:
        yield error(
            "schedule",
            (*path, "time"),
            "'time' cannot be combined with 'at'",
            "'at' alone: it is already an exact instant",
        )
    if post.at.tzinfo is None:
        yield error(
            "at-offset",
            (*path, "at"),
            f"{post.at.isoformat()} has no UTC offset",
            "an instant with its offset, such as 2026-11-25T12:00:00Z",
        )
        return
    if not _INSTANT_EARLIEST <= post.at <= _INSTANT_LATEST:
        # Compared as instants, which cannot overflow; converting one to a time zone could.
        yield error(
            "invalid-value",
            (*path, "at"),
            f"found {post.at.isoformat()}, outside the years a campaign can be planned in",
            f"an instant from {EARLIEST} to {LATEST}",
        )
        return
    yield from _at_outside_window(loaded, path, post, post.at)


def _at_outside_window(
    loaded: LoadedCampaign, path: FieldPath, post: Post, at: dt.datetime
) -> Iterator[Problem]:
    window = loaded.spec.campaign.window
    outside = []
    for embassy in targeted_embassies(post, loaded.spec.embassies):
        tz = zone(embassy.timezone)
        if tz is not None and not window.start <= at.astimezone(tz).date() <= window.end:
            outside.append(embassy.id)
    if outside:
        yield warning(
            "outside-window",
            (*path, "at"),
            f"{at.isoformat()} falls outside the campaign's dates in the local time of "
            f"{', '.join(outside)}",
        )


def _image(path: FieldPath, image: Image) -> Iterator[Problem]:
    if image.file.startswith("/") or ".." in image.file.replace("\\", "/").split("/"):
        yield error(
            "media-path",
            (*path, "file"),
            f"{quoted(image.file, limit=80)} leaves the campaign's folder",
            "a path inside the campaign's folder, such as 'media/day01.png'",
        )


def _targets(
    index: int, post: Post, ids: set[str], regions: set[str], tags: set[str]
) -> Iterator[Problem]:
    targets = post.targets
    path: FieldPath = ("posts", index, "targets")
    for key, values, known in (
        ("embassies", targets.embassies, ids),
        ("exclude", targets.exclude, ids),
        ("regions", targets.regions, regions),
        ("tags", targets.tags, tags),
    ):
        for number, value in enumerate(values):
            if value not in known:
                yield error(
                    "unknown-reference",
                    (*path, key, number),
                    f"no embassy has {_REFERENCE_NOUN[key]} '{value}'",
                    "one of: " + (", ".join(sorted(known)) or "(none)"),
                )


_REFERENCE_NOUN = {"embassies": "id", "exclude": "id", "regions": "region", "tags": "tag"}


def _raw_strings(data: Any) -> Iterator[tuple[FieldPath, str]]:
    return ((path, value) for path, value in leaves(data) if isinstance(value, str))


def _control_characters(strings: Iterable[tuple[FieldPath, str]]) -> Iterator[Problem]:
    """Invisible control characters, which quotes let a file write as "\\0" or "\\e": platforms
    refuse or garble them, and PostgreSQL cannot store a NUL."""
    for path, value in strings:
        found = _CONTROL.search(value)
        if found:
            yield error(
                "invalid-value",
                path,
                f"the text holds the control character U+{ord(found[0]):04X} "
                f"at character {found.start() + 1}",
                "text without control characters (line breaks and tabs are fine)",
            )


def _secrets(
    written: dict[FieldPath, tuple[int, int]], strings: Iterable[tuple[FieldPath, str]]
) -> Iterator[Problem]:
    """Known token shapes anywhere in the file (credentials fields are checked on their own)."""
    for path, value in strings:
        if (path and path[-1] == "credentials") or path not in written:
            continue
        for pattern, kind in SECRET_PATTERNS:
            if pattern.match(value.strip()):
                yield error(
                    "secret-in-file",
                    path,
                    f"this looks like {kind}: secrets never go in the campaign file",
                    "no secrets here; see docs/secrets.md",
                )


def _run_together_hashtags(loaded: LoadedCampaign) -> Iterator[Problem]:
    reported: set[str] = set()
    for path, value in _raw_strings(loaded.spec.model_dump(by_alias=True)):
        for tag in _HASHTAG.findall(
            value if "#" in value or "hashtags" not in path else "#" + value
        ):
            if _RUN_TOGETHER.match(tag) and tag not in reported:
                reported.add(tag)
                yield warning(
                    "hashtag-case",
                    path,
                    f"screen readers read '#{tag}' as one word",
                    "each word capitalised, such as '#OrangeTheWorld', if it joins several words",
                )


def check_deliveries(plan: Plan, loaded: LoadedCampaign) -> list[Problem]:
    found: list[Problem] = []
    found += _lengths(plan.deliveries)
    found += _media_limits(plan.deliveries)
    found += _identical_x_texts(plan.deliveries)
    found += _repeated_on_one_x_account(plan.deliveries)
    found += _replies_on_mastodon(loaded, plan.deliveries)
    return [loaded.source.locate(problem) for problem in found]


def _lengths(deliveries: Iterable[Delivery]) -> Iterator[Problem]:
    """Texts over a platform's limits (Bluesky's UTF-8 bytes too): one problem per text and
    platform, counted on its longest copy and naming every embassy whose copy is over."""
    worst: dict[tuple[FieldPath, Platform], tuple[Delivery, TooLong]] = {}
    over_for: dict[tuple[FieldPath, Platform], set[str]] = defaultdict(set)
    for delivery in deliveries:
        over = delivery.too_long()
        if over is None:
            continue
        key = (delivery.source, delivery.platform)
        over_for[key].add(delivery.embassy_id)
        kept = worst.get(key)
        if kept is None or (over.length, over.size) > (kept[1].length, kept[1].size):
            worst[key] = (delivery, over)
    for key, (delivery, over) in worst.items():
        source, platform = key
        label = CAPABILITIES[platform].label
        others = sorted(over_for[key] - {delivery.embassy_id})
        yield error(
            "too-long",
            source,
            f"{delivery.length} characters on {label} for {delivery.embassy_id}"
            + (f" and {len(others)} other{'s' * (len(others) != 1)}" if others else "")
            + " (counted with hashtags and content warning, as posted"
            + (f"; the other{'s' * (len(others) != 1)}: {_names(others)})" if others else ")"),
            over.expected,
        )


_NAMED_OTHERS = 5
"""How many other embassies a grouped problem names before it only counts them."""


def _names(ids: list[str]) -> str:
    """'be-paris, be-rome', or the first few and '...'."""
    return ", ".join(ids[:_NAMED_OTHERS]) + (", ..." if len(ids) > _NAMED_OTHERS else "")


def _media_limits(deliveries: Iterable[Delivery]) -> Iterator[Problem]:
    seen: set[tuple[FieldPath, Platform, str]] = set()
    checked: set[tuple[FieldPath, Platform, int]] = set()
    for delivery in deliveries:
        # A plan shares one tuple of attachments among the embassies: check each once.
        images = (delivery.source, delivery.platform, id(delivery.media))
        if images in checked:
            continue
        checked.add(images)
        capabilities = CAPABILITIES[delivery.platform]
        label = capabilities.label
        base = part_path(delivery.source)
        checks = [
            (
                len(delivery.media) > capabilities.max_images,
                (*base, "images"),
                f"{len(delivery.media)} images on {label}",
                f"at most {capabilities.max_images}",
            ),
        ]
        for number, item in enumerate(delivery.media):
            image_path = (*base, "images", number)
            checks += [
                (
                    item.mime not in capabilities.image_types,
                    (*image_path, "file"),
                    f"{item.file} is {item.mime}, which {label} does not take",
                    "one of: " + ", ".join(sorted(capabilities.image_types)),
                ),
                (
                    item.size > capabilities.max_image_bytes,
                    (*image_path, "file"),
                    f"{item.file} is {item.size:,} bytes, too large for {label}",
                    f"at most {capabilities.max_image_bytes:,} bytes",
                ),
                (
                    len(item.alt) > capabilities.max_alt_text,
                    (*image_path, "alt", item.alt_language),
                    f"alt text is {len(item.alt)} characters, too long for {label}",
                    f"at most {capabilities.max_alt_text}",
                ),
            ]
        for failed, path, message, expected in checks:
            if failed and (path, delivery.platform, message) not in seen:
                seen.add((path, delivery.platform, message))
                yield error("media-limit", path, message, expected)


def part_path(text_source: FieldPath) -> FieldPath:
    """The post or thread part that a text path (…text.en or …variants.x.en) belongs to."""
    return text_source[:-2] if text_source[-2] == "text" else text_source[:-3]


def _identical_x_texts(deliveries: Iterable[Delivery]) -> Iterator[Problem]:
    # A set of accounts only for a text posted more than once: most are posted once, and a
    # set for each of 128,000 texts was most of the memory a large plan's checks took.
    first: dict[bytes, Delivery] = {}
    accounts: dict[bytes, set[str]] = {}
    for delivery in deliveries:
        if delivery.platform is Platform.X:
            kept = first.setdefault(delivery.text_utf8, delivery)
            if kept is not delivery:
                accounts.setdefault(delivery.text_utf8, {kept.account}).add(delivery.account)
    for text, kept in first.items():
        handles = accounts.get(text, ())
        if len(handles) >= IDENTICAL_X_TEXT_ACCOUNTS:
            yield warning(
                "identical-x-text",
                kept.source,
                f"the same text goes to {len(handles)} X accounts; X may treat "
                "identical posts from many accounts as platform manipulation",
                "embassy-specific wording, e.g. with {embassy} or {country}",
            )


def _repeated_on_one_x_account(deliveries: Iterable[Delivery]) -> Iterator[Problem]:
    """X refuses a text its account has already posted (403 "duplicate content")."""
    first: dict[bytes, Delivery] = {}
    by_account: dict[tuple[str, bytes], Delivery] = {}  # only for texts posted more than once
    for delivery in deliveries:
        if delivery.platform is not Platform.X:
            continue
        text = delivery.text_utf8
        kept = first.setdefault(text, delivery)
        if kept is delivery:
            continue
        by_account.setdefault((kept.account, text), kept)
        earlier = by_account.setdefault((delivery.account, text), delivery)
        if earlier is not delivery:
            yield error(
                "repeated-x-text",
                delivery.source,
                f"{delivery.account} would post this text twice ({earlier.post_id} and "
                f"{delivery.post_id}); X refuses the second as duplicate content",
                "a different text for each post on one X account",
            )


def _replies_on_mastodon(
    loaded: LoadedCampaign, deliveries: Iterable[Delivery]
) -> Iterator[Problem]:
    posts = {
        delivery.post_id
        for delivery in deliveries
        if delivery.platform is Platform.MASTODON and delivery.replies is not Replies.EVERYONE
    }
    for index, post in enumerate(loaded.spec.posts):
        if post.id in posts:
            yield warning(
                "replies-unsupported",
                ("posts", index, "replies"),
                f"Mastodon cannot limit who replies; post '{post.id}' stays open to replies there",
                "'visibility: unlisted' or leaving Mastodon out "
                "with targets.platforms, if replies must be limited",
            )
