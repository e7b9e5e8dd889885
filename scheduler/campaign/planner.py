"""Expand a campaign into deliveries: one per post part x embassy account x platform.

``plan`` is a pure function of the campaign file (and the images it names): no database, no
clock, no network. Planning the same file twice gives the same deliveries with the same ids,
which is what lets the store tell a changed post from a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from adapters.capabilities import CAPABILITIES, ContentWarningStyle, Platform
from adapters.textlength import TooLong, text_length, too_long
from scheduler.campaign.loader import LoadedCampaign
from scheduler.campaign.media import MediaCatalog, MediaError
from scheduler.campaign.model import (
    CLOCK_PATTERN,
    Account,
    CampaignSection,
    Embassy,
    Image,
    LanguageFallback,
    MastodonAccount,
    Part,
    Post,
    Replies,
    Visibility,
)
from scheduler.campaign.sourcemap import SourceMap
from scheduler.campaign.templating import UnknownPlaceholder, render
from scheduler.campaign.timing import (
    LocalTimeError,
    ResolvedTime,
    in_zone,
    parse_clock,
    resolve_local,
    zone,
)
from scheduler.problems import FieldPath, Problem, error, notice, warning

_CLOCK = re.compile(CLOCK_PATTERN)
_Shared = TypeVar("_Shared", bound=Hashable)
PLATFORM_ORDER = {platform: index for index, platform in enumerate(Platform)}


@dataclass(frozen=True, slots=True)
class Attachment:
    file: str
    """As written in the campaign file, relative to its folder."""
    mime: str
    size: int
    width: int
    height: int
    sha256: str
    alt: str
    alt_language: str


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What the deliveries of one post share."""

    campaign_id: str
    post_id: str
    parts: int
    visibility: Visibility
    replies: Replies
    grace: dt.timedelta


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the deliveries on one embassy account share."""

    embassy_id: str
    platform: Platform
    account: str
    """The account's handle."""
    credentials: str
    """Name of the secrets entry for the account; never a secret."""
    instance: str | None
    timezone: str
    limit: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One platform call: a post part, on one embassy account, at one instant.

    A plan holds one per post part, account and platform (384,000 for a large network), so
    each keeps only references: what it shares with the other deliveries of its post, of its
    account and of its instant, its text, source path and attachments are kept once for all of
    them, and its id and content hash are worked out when asked for."""

    post: PostFacts
    on: AccountFacts
    when: ResolvedTime
    part: int
    """1-based position in the thread; a single post is part 1 of 1."""
    language: str
    text_utf8: bytes
    """The text, kept in UTF-8: a third of the size of a Python string holding one emoji."""
    media: tuple[Attachment, ...]
    content_warning: str | None
    """Set where the platform has a native field; otherwise it is the first line of ``text``."""
    length: int
    source: FieldPath
    """Where the text came from in the campaign file."""

    @property
    def campaign_id(self) -> str:
        return self.post.campaign_id

    @property
    def post_id(self) -> str:
        return self.post.post_id

    @property
    def parts(self) -> int:
        return self.post.parts

    @property
    def visibility(self) -> Visibility:
        return self.post.visibility

    @property
    def replies(self) -> Replies:
        return self.post.replies

    @property
    def grace(self) -> dt.timedelta:
        return self.post.grace

    @property
    def embassy_id(self) -> str:
        return self.on.embassy_id

    @property
    def platform(self) -> Platform:
        return self.on.platform

    @property
    def account(self) -> str:
        """The account's handle."""
        return self.on.account

    @property
    def credentials(self) -> str:
        return self.on.credentials

    @property
    def instance(self) -> str | None:
        return self.on.instance

    @property
    def timezone(self) -> str:
        return self.on.timezone

    @property
    def limit(self) -> int:
        return self.on.limit

    @property
    def due_at(self) -> dt.datetime:
        """Aware UTC instant."""
        return self.when.utc

    @property
    def local_time(self) -> dt.datetime:
        """Naive wall-clock time in ``timezone``, for display."""
        return self.when.local

    @property
    def text(self) -> str:
        return self.text_utf8.decode()

    @property
    def id(self) -> str:
        return f"{self.post_id}/{self.embassy_id}/{self.platform}/{self.part}"

    @property
    def content_hash(self) -> str:
        """Fingerprint of everything that goes out, so a store can tell an edited delivery."""
        return _content_hash(self)

    @property
    def account_id(self) -> str:
        return f"{self.embassy_id}/{self.platform}"

    def too_long(self) -> TooLong | None:
        """What this copy is over, by the platform's count and, on Bluesky, in bytes too."""
        return too_long(
            self.text, CAPABILITIES[self.platform], length=self.length, limit=self.limit
        )


@dataclass(frozen=True)
class Plan:
    campaign_id: str
    campaign_name: str
    window_start: dt.date
    window_end: dt.date
    deliveries: tuple[Delivery, ...]
    problems: tuple[Problem, ...]
    """Located problems found while planning: fallbacks, clock changes, templates, images."""
    source: SourceMap | None = None
    """Where each field stood in the campaign file, to show a delivery's line."""


@dataclass
class _Planning:
    """What the expansion of one campaign accumulates."""

    loaded: LoadedCampaign
    media: MediaCatalog
    slots: Mapping[tuple[str, str], ResolvedTime]
    """(post id, embassy id) -> a time chosen outside the file: a queued post's free slot."""
    deliveries: list[Delivery] = field(default_factory=list)
    problems: dict[tuple[str, FieldPath, str], Problem] = field(default_factory=dict)
    fallbacks: dict[tuple[int, str, str], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @property
    def campaign(self) -> CampaignSection:
        return self.loaded.spec.campaign

    embassies: dict[tuple[str, FieldPath, str, str | None], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """The embassies a problem written with EMBASSY in its message is found for."""
    shared: dict[object, object] = field(default_factory=dict)
    """One copy of each text and source path, however many deliveries carry it."""
    attachments: dict[tuple[FieldPath, str], tuple[Attachment, ...]] = field(default_factory=dict)
    """The images of a post part in one language, made once for every embassy."""

    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    """The texts made for the post and embassy being planned, by template (or body) and handle:
    an embassy's platforms mostly post the same text, made once."""

    parts_of: dict[int, list[Part]] = field(default_factory=dict)
    """Each post's parts, by index, made once for all its embassies."""
    languages_of: dict[int, list[str]] = field(default_factory=dict)
    """The languages each post has, by index."""

    def parts(self, index: int, post: Post) -> list[Part]:
        found = self.parts_of.get(index)
        if found is None:
            found = self.parts_of[index] = post.parts()
        return found

    def languages(self, index: int, post: Post) -> list[str]:
        found = self.languages_of.get(index)
        if found is None:
            found = self.languages_of[index] = post_languages(post)
        return found

    def share(self, value: _Shared) -> _Shared:
        """The copy of ``value`` already in the plan, if there is one; else ``value``."""
        return self.shared.setdefault(value, value)  # type: ignore[return-value]

    def report(self, problem: Problem, embassy: str | None = None) -> None:
        """Keep ``problem`` once; one found for several embassies (its message names them as
        EMBASSY) is reported once, naming them all."""
        key = (problem.code, problem.path, problem.message)
        self.problems.setdefault(key, problem)
        if embassy is not None:
            ids = self.embassies[(*key, problem.expected)]
            if embassy not in ids:
                ids.append(embassy)

    def grouped_problems(self) -> list[Problem]:
        found = []
        for problem in self.problems.values():
            ids = self.embassies.get(
                (problem.code, problem.path, problem.message, problem.expected)
            )
            if ids:
                problem = replace(problem, message=problem.message.replace(EMBASSY, _names(ids)))
            found.append(problem)
        return found


EMBASSY = "\x00"
"""Stands for the embassy in a problem's message until the embassies it applies to are known."""

_NAMED = 6
"""How many embassies a problem names before it only counts the rest."""


def _names(ids: list[str]) -> str:
    """'be-tokyo', 'be-tokyo and be-paris', 'be-tokyo, be-paris and be-rome', or the first five
    and 'and 11 others'."""
    if len(ids) == 1:
        return ids[0]
    if len(ids) <= _NAMED:
        return ", ".join(ids[:-1]) + " and " + ids[-1]
    return ", ".join(ids[: _NAMED - 1]) + f" and {len(ids) - _NAMED + 1} others"


def plan(
    loaded: LoadedCampaign, slots: Mapping[tuple[str, str], ResolvedTime] | None = None
) -> Plan:
    """Expand ``loaded``, which must have passed :func:`scheduler.campaign.checks.check_structure`.

    ``slots`` fixes the time of a post at an embassy, over what the post says: queued posts
    without a time go out in the slot the queue chose for each embassy.
    """
    state = _Planning(loaded, MediaCatalog(loaded.folder), slots or {})
    embassies = loaded.spec.embassies
    for index, post in enumerate(loaded.spec.posts):
        for embassy in targeted_embassies(post, embassies):
            _plan_post_for_embassy(state, index, post, embassy)
    _report_fallbacks(state)
    source = loaded.source
    deliveries = state.deliveries
    for key in _ORDER_LEAST_FIRST:
        deliveries.sort(key=key)
    return Plan(
        campaign_id=state.campaign.id,
        campaign_name=state.campaign.name,
        window_start=state.campaign.window.start,
        window_end=state.campaign.window.end,
        deliveries=tuple(deliveries),
        problems=tuple(source.locate(problem) for problem in state.grouped_problems()),
        source=source,
    )


def targeted_embassies(post: Post, embassies: list[Embassy]) -> list[Embassy]:
    targets = post.targets
    chosen = [
        embassy
        for embassy in embassies
        if not targets.filters_embassies
        or embassy.id in targets.embassies
        or (embassy.region is not None and embassy.region in targets.regions)
        or bool(set(embassy.tags) & set(targets.tags))
    ]
    return [embassy for embassy in chosen if embassy.id not in targets.exclude]


_ORDER_LEAST_FIRST: tuple[Callable[[Delivery], Any], ...] = (
    attrgetter("part"),
    attrgetter("post_id"),
    lambda delivery: PLATFORM_ORDER[delivery.platform],
    attrgetter("embassy_id"),
    attrgetter("due_at"),
)
"""The plan's order (time, embassy, platform, post, part), a stable sort per key from the
least significant: each pass keeps one key per delivery, and the keys are the deliveries' own
values, where a sort by a tuple made 384,000 tuples at once."""


def _plan_post_for_embassy(state: _Planning, index: int, post: Post, embassy: Embassy) -> None:
    when = _schedule(state, index, post, embassy)
    language = _choose_language(state, index, post, embassy)
    if when is None or language is None:
        return
    state.texts.clear()
    platforms = post.targets.platforms or list(Platform)
    for platform, account in embassy.accounts.by_platform().items():
        if platform in platforms:
            state.deliveries.extend(
                _deliveries(state, index, post, embassy, platform, account, when, language)
            )


def _schedule(state: _Planning, index: int, post: Post, embassy: Embassy) -> ResolvedTime | None:
    if (post.id, embassy.id) in state.slots:
        return state.slots[post.id, embassy.id]
    tz = zone(embassy.timezone)
    if tz is None:  # reported by the structure checks
        return None
    if post.at is not None:
        return in_zone(post.at, tz)
    day = post.date or state.campaign.window.start + dt.timedelta(days=(post.day or 1) - 1)
    clock = _clock(state, index, post, embassy)
    if clock is None:
        return None
    try:
        resolved = resolve_local(day, clock, tz, state.campaign.policies.clock_changes)
    except LocalTimeError as exc:
        state.report(
            error(
                "local-time",
                ("posts", index, "time"),
                f"for {EMBASSY}: {exc}",
                "a local time that exists once (policies.clock_changes)",
            ),
            embassy.id,
        )
        return None
    if resolved.note:
        state.report(
            warning("clock-change", ("posts", index, "time"), f"for {EMBASSY}: {resolved.note}"),
            embassy.id,
        )
    return resolved


def _clock(state: _Planning, index: int, post: Post, embassy: Embassy) -> dt.time | None:
    slots = embassy.posting_times or state.campaign.posting_times
    name = post.time or next(iter(slots), None)
    if name is not None and _is_clock(name):
        return parse_clock(name)
    if name in slots:
        return parse_clock(slots[name])
    names = ", ".join(slots) or "none defined"
    state.report(
        error(
            "unknown-posting-time",
            ("posts", index, "time"),
            f"'{name}' is not a posting time of {EMBASSY}",
            f"a time such as '18:30' or one of: {names}",
        ),
        embassy.id,
    )
    return None


def _is_clock(text: str) -> bool:
    return _CLOCK.match(text) is not None


def post_languages(post: Post) -> list[str]:
    """Languages every part of the post has, in the order the file lists them."""
    parts = post.parts()
    first = list(parts[0].text)
    return [lang for lang in first if all(lang in part.text for part in parts[1:])]


def _choose_language(state: _Planning, index: int, post: Post, embassy: Embassy) -> str | None:
    available = state.languages(index, post)
    for rank, language in enumerate(embassy.languages):
        if language in available:
            if rank > 0:
                state.fallbacks[(index, embassy.languages[0], language)].append(embassy.id)
            return language
    return _fallback_language(state, index, post, embassy, available)


def _fallback_language(
    state: _Planning, index: int, post: Post, embassy: Embassy, available: list[str]
) -> str | None:
    policy = state.campaign.policies.language_fallback
    path: FieldPath = ("posts", index, "thread" if post.thread else "text")
    wanted = ", ".join(embassy.languages)
    have = ", ".join(available) or "none"
    if policy is LanguageFallback.DEFAULT_LANGUAGE and available:
        chosen = (
            state.campaign.default_language
            if state.campaign.default_language in available
            else available[0]
        )
        state.report(
            warning(
                "missing-translation",
                path,
                f"post '{post.id}' has no text in {wanted} for {EMBASSY}; "
                f"it will post in '{chosen}'",
            ),
            embassy.id,
        )
        return chosen
    if policy is LanguageFallback.ERROR or not available:
        state.report(
            error(
                "missing-translation",
                path,
                f"post '{post.id}' has no text in {wanted} for {EMBASSY} (it has: {have})",
                f"a text in one of: {wanted}",
            ),
            embassy.id,
        )
        return None
    state.report(
        warning(
            "missing-translation",
            path,
            f"post '{post.id}' has no text in {wanted}; left out for {EMBASSY} "
            "(language_fallback: skip)",
        ),
        embassy.id,
    )
    return None


def _report_fallbacks(state: _Planning) -> None:
    posts = state.loaded.spec.posts
    for (index, wanted, used), embassy_ids in state.fallbacks.items():
        post = posts[index]
        path: FieldPath = ("posts", index, "thread" if post.thread else "text")
        state.report(
            notice(
                "language-fallback",
                path,
                f"post '{post.id}' has no '{wanted}' text; "
                f"{', '.join(embassy_ids)} will post in '{used}'",
            )
        )


def _deliveries(
    state: _Planning,
    index: int,
    post: Post,
    embassy: Embassy,
    platform: Platform,
    account: Account,
    when: ResolvedTime,
    language: str,
) -> Iterator[Delivery]:
    parts = state.parts(index, post)
    handle = account.handle
    values = _template_values(embassy, handle)
    for number, part in enumerate(parts, start=1):
        part_path: FieldPath = ("posts", index, *post.part_path(number - 1))
        text, source = _part_text(state, part, part_path, platform, language, values)
        if text is None:
            continue
        yield _delivery(
            state,
            post,
            embassy,
            platform,
            account,
            when,
            language,
            _Part(number, len(parts), part, part_path, text, source),
        )


@dataclass(frozen=True, slots=True)
class _Part:
    number: int
    total: int
    spec: Part
    path: FieldPath
    body: str
    source: FieldPath


def _delivery(
    state: _Planning,
    post: Post,
    embassy: Embassy,
    platform: Platform,
    account: Account,
    when: ResolvedTime,
    language: str,
    part: _Part,
) -> Delivery:
    capabilities = CAPABILITIES[platform]
    warning_text = _pick(post.content_warning, language, state.campaign.default_language)
    native_cw = capabilities.content_warning is ContentWarningStyle.NATIVE
    text = part.body
    if part.number == 1:
        tagged = state.texts.get((_TAGGED, text))
        if tagged is None:
            tagged = state.texts[_TAGGED, text] = _with_hashtags(text, post, state.campaign)
        text = tagged
        if warning_text and not native_cw:
            text = f"CW: {warning_text}\n\n{text}"
    content_warning = warning_text if native_cw else None
    length = text_length(text, capabilities.length_rule)
    if content_warning:
        length += text_length(content_warning, capabilities.length_rule)
    return Delivery(
        post=state.share(
            PostFacts(
                campaign_id=state.campaign.id,
                post_id=post.id,
                parts=part.total,
                visibility=post.visibility,
                replies=post.replies,
                grace=post.late_grace or state.campaign.policies.late.grace,
            )
        ),
        on=state.share(
            AccountFacts(
                embassy_id=embassy.id,
                platform=platform,
                account=account.handle,
                credentials=account.credentials,
                instance=getattr(account, "instance", None),
                timezone=embassy.timezone,
                limit=(
                    account.max_characters
                    if isinstance(account, MastodonAccount)
                    else capabilities.max_length
                ),
            )
        ),
        when=when,
        part=part.number,
        language=language,
        text_utf8=state.share(text.encode()),
        media=_attachments(state, part, language),
        content_warning=content_warning,
        length=length,
        source=state.share(part.source),
    )


_TAGGED = "\x00"
"""Keys a body with its hashtags added in ``_Planning.texts``: no template is a control
character."""


def _template_values(embassy: Embassy, handle: str) -> dict[str, str]:
    values = {
        "embassy": embassy.name,
        "embassy_id": embassy.id,
        "country": embassy.country,
        "city": embassy.city or "",
        "region": embassy.region or "",
        "handle": handle,
    }
    values.update(embassy.variables)
    return values


def _part_text(
    state: _Planning,
    part: Part,
    path: FieldPath,
    platform: Platform,
    language: str,
    values: dict[str, str],
) -> tuple[str | None, FieldPath]:
    variant = part.variants.get(platform, {})
    if language in variant:
        template, source = variant[language], (*path, "variants", str(platform), language)
    else:
        template, source = part.text[language], (*path, "text", language)
    made = state.texts.get((template, values["handle"]))
    if made is not None:
        return made, source
    try:
        made = state.texts[template, values["handle"]] = render(template, values)
        return made, source
    except UnknownPlaceholder as exc:
        known = ", ".join("{" + name + "}" for name in sorted(values))
        state.report(
            error(
                "unknown-placeholder",
                source,
                f"'{{{exc.name}}}' is not a value this text can use",
                f"one of: {known} (or '{{{{' for a literal brace)",
            )
        )
        return None, source


def _with_hashtags(text: str, post: Post, campaign: CampaignSection) -> str:
    tags = post.hashtags if post.hashtags is not None else campaign.hashtags
    missing = [tag for tag in map(normalize_hashtag, tags) if not _has_hashtag(text, tag)]
    return f"{text}\n\n{' '.join(missing)}" if missing else text


def _has_hashtag(text: str, tag: str) -> bool:
    """Whole hashtags only: '#16Days' is not already in '#16DaysOfActivism'."""
    return _hashtag_pattern(tag).search(text) is not None


@lru_cache(maxsize=256)
def _hashtag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w#]){re.escape(tag)}(?!\w)", re.IGNORECASE)


def normalize_hashtag(tag: str) -> str:
    tag = tag.strip()
    return tag if tag.startswith("#") else f"#{tag}"


def _pick(texts: dict[str, str] | None, language: str, default: str) -> str | None:
    if not texts:
        return None
    return texts.get(language) or texts.get(default) or next(iter(texts.values()))


def _attachments(state: _Planning, part: _Part, language: str) -> tuple[Attachment, ...]:
    key = (part.path, language)
    found = state.attachments.get(key)
    if found is None:
        found = state.attachments[key] = tuple(_made_attachments(state, part, language))
    return found


def _made_attachments(state: _Planning, part: _Part, language: str) -> Iterator[Attachment]:
    for number, image in enumerate(part.spec.images):
        path: FieldPath = (*part.path, "images", number)
        try:
            found = state.media.get(image.file)
        except MediaError as exc:
            state.report(
                error(
                    "media-file",
                    (*path, "file"),
                    str(exc),
                    "an image file inside the campaign's folder",
                )
            )
            continue
        alt, alt_language = _alt_text(state, image, path, language)
        yield Attachment(
            image.file,
            found.mime,
            found.size,
            found.width,
            found.height,
            found.sha256,
            alt,
            alt_language,
        )


def _alt_text(state: _Planning, image: Image, path: FieldPath, language: str) -> tuple[str, str]:
    if language in image.alt:
        return image.alt[language], language
    fallback = state.campaign.default_language
    chosen = fallback if fallback in image.alt else next(iter(image.alt))
    state.report(
        warning(
            "missing-alt-text",
            (*path, "alt"),
            f"no '{language}' alt text for {image.file}; screen readers will "
            f"read the '{chosen}' one",
            f"alt text in '{language}'",
        )
    )
    return image.alt[chosen], chosen


def _content_hash(delivery: Delivery) -> str:
    """Everything that goes out (not where it came from, nor how late it may go): the JSON of
    the fields, keys sorted, as the store has always compared it."""
    relevant = {
        "id": delivery.id,
        "text": delivery.text,
        **{name: getattr(delivery, name) for name in _HASHED_FIELDS},
    }
    encoded = json.dumps(relevant, default=_json_default, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


_HASHED_FIELDS = (
    *("campaign_id", "post_id", "embassy_id", "platform", "account", "credentials", "instance"),
    *("part", "parts", "due_at", "local_time", "timezone", "language", "media"),
    *("content_warning", "visibility", "replies", "length", "limit"),
)
"""With the id and the text: every field a delivery had before it shared them (not where it
came from, nor how late it may go), so that a stored hash stays the same."""


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Attachment):
        return [value.file, value.sha256, value.alt]
    return str(value)
