"""Queue a post and edit a queued one: ``/queue/new``, ``/queue``, ``/queue/check`` (the live
validation beside the form) and ``/posts/{post_id}/edit``.

The form's fields become a post in the campaign file's shape through the CLI's own builder
(``service.drafts``), and are checked by the service exactly as `campaign queue add` checks
them. Uploaded images go to a private temporary folder, which the service reads as the CLI
reads the current folder, removed afterwards; an edit first writes the images the post keeps
there, from the store's bytes. A problem is shown at the field it is about, as the CLI names
the option (``OPTION_OF_FIELD``).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from adapters.capabilities import CAPABILITIES, Platform
from scheduler.campaign.model import Replies, Visibility
from scheduler.errors import CampaignFileError, ConfigurationError, UsageError
from scheduler.problems import Problem, Severity
from scheduler.service import dashboard, queue
from scheduler.service.drafts import MAX_DRAFT_IMAGES, Draft, DraftImage, new_post_id, post_fields
from scheduler.service.queue import PostChange, QueueCheck, QueueChoices
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit

MAX_UPLOAD = max(capabilities.max_image_bytes for capabilities in CAPABILITIES.values())
"""The largest image any platform takes: a bigger upload is refused before it is checked."""
IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp"
SLOTS = range(1, MAX_DRAFT_IMAGES + 1)
TIME_FIELDS = ("day", "date", "time", "at")
FIELD_OF_KEY = {
    "id": "id",
    "at": "at",
    "date": "at",
    "time": "at",
    "day": "at",
    "replies": "replies",
    "visibility": "visibility",
}
"""The form field of a post's field, for problems (as the CLI's OPTION_OF_FIELD names options)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FieldProblem:
    """A problem shown at a field of the form (``field`` None: about the post as a whole)."""

    field: str | None
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR


@dataclass
class QueueForm:
    """The form's values, as posted or as stored: what the page shows in its fields."""

    id: str = ""
    texts: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    alts: dict[int, dict[str, str]] = field(default_factory=dict)
    embassies: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    when: str = "next"
    at: str = ""
    replies: str = ""
    visibility: str = ""
    kept: dict[int, str] = field(default_factory=dict)
    """Editing: the stored image in each slot (its file name), kept unless replaced."""
    removed: set[int] = field(default_factory=set)
    stored_time: str | None = None
    """Editing: a time the form cannot show (an instant, or a day of the campaign)."""
    other_targets: dict[str, list[str]] = field(default_factory=dict)
    """Editing: regions, tags, exclusions set on the command line, kept as they are."""


def _posted(visit: Visit, choices: QueueChoices, stored: QueueForm | None) -> QueueForm:
    languages = choices.languages
    form = QueueForm(
        id=visit.field("id"),
        texts={lang: _text(visit, f"text_{lang}") for lang in languages},
        warnings={lang: visit.field(f"content_warning_{lang}") for lang in languages},
        alts={n: {lang: visit.field(f"alt_{n}_{lang}") for lang in languages} for n in SLOTS},
        embassies=[str(v) for v in visit.form.getlist("embassy") if isinstance(v, str)],
        platforms=[str(v) for v in visit.form.getlist("platform") if isinstance(v, str)],
        when=visit.field("when") or "next",
        at=visit.field("at"),
        replies=visit.field("replies"),
        visibility=visit.field("visibility"),
    )
    if stored is not None:
        form.id, form.kept = stored.id, stored.kept
        form.stored_time, form.other_targets = stored.stored_time, stored.other_targets
        form.removed = {n for n in SLOTS if visit.field(f"remove_image_{n}")}
    return form


def _text(visit: Visit, name: str) -> str:
    """A text as typed, line breaks normalised, outer blank space dropped."""
    value = visit.form.get(name)
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _stored(post_id: str, definition: Mapping[str, Any]) -> QueueForm:
    """The form of a stored post, to edit it."""
    targets = dict(definition.get("targets") or {})
    images = list(definition.get("images") or [])
    form = QueueForm(
        id=post_id,
        texts=dict(definition.get("text") or {}),
        warnings=dict(definition.get("content_warning") or {}),
        alts={n: dict(image.get("alt") or {}) for n, image in enumerate(images, 1)},
        embassies=list(targets.pop("embassies", [])),
        platforms=list(targets.pop("platforms", [])),
        replies=str(definition.get("replies") or ""),
        visibility=str(definition.get("visibility") or ""),
        kept={n: str(image["file"]) for n, image in enumerate(images, 1)},
        other_targets={key: list(value) for key, value in targets.items() if value},
    )
    time = {key: definition[key] for key in TIME_FIELDS if key in definition}
    if time.keys() == {"date", "time"}:
        form.when, form.at = "at", f"{time['date']}T{time['time']}"
    elif time:  # an instant, a day of the campaign, a date at its posting time: kept as is
        form.when = "keep"
        form.stored_time = ", ".join(f"{key} {value}" for key, value in time.items())
    return form


@dataclass
class Attempt:
    """A posted form, worked out: its values, the post it makes, and what is wrong with it."""

    form: QueueForm
    folder: Path
    definition: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)
    check: QueueCheck | None = None
    slots: list[int] = field(default_factory=list)
    """The form's image slot of each image of the post, in order."""

    @property
    def ok(self) -> bool:
        return not any(problem.is_error for problem in self.problems)


@contextmanager
def _attempt(
    visit: Visit, choices: QueueChoices, editing: str | None, stored: QueueForm | None
) -> Iterator[Attempt]:
    """The posted form checked as the service checks it, nothing written; its images in a
    private folder (removed when the block ends) that queueing reads."""
    with tempfile.TemporaryDirectory(prefix="campaign-web-") as name:
        attempt = Attempt(_posted(visit, choices, stored), Path(name))
        if editing is not None:
            queue.stored_images(
                visit.database, editing, attempt.folder, campaign_id=choices.campaign_id
            )
        images = _images(visit, attempt)
        if not any(attempt.form.texts.values()):
            attempt.problems.append(
                FieldProblem(
                    f"text_{choices.default_language}", "Write the text in at least one language."
                )
            )
        try:
            new_id = None if editing else new_post_id(visit.now().date())
            attempt.definition = _definition(attempt.form, images, new_id)
        except UsageError as exc:
            attempt.problems.append(FieldProblem("at", str(exc)))
        if attempt.definition and any(attempt.form.texts.values()):
            _check(visit, attempt, choices, editing)
        yield attempt


def _images(visit: Visit, attempt: Attempt) -> list[DraftImage]:
    """Each slot's image: an upload saved in the folder, else the stored one kept."""
    form, images = attempt.form, []
    for n in SLOTS:
        upload = next((u for u in visit.files(f"image_{n}") if u.filename), None)
        alt = {lang: text for lang, text in form.alts.get(n, {}).items() if text}
        if upload is not None:
            file = _save(upload, attempt.folder, f"image_{n}", attempt.problems)
        elif n in form.kept and n not in form.removed:
            file = form.kept[n]
        else:
            if alt:
                attempt.problems.append(
                    FieldProblem(
                        f"image_{n}",
                        f"Image {n} has alt text but no image: choose one, or clear its alt text.",
                    )
                )
            continue
        if file is not None:
            images.append(DraftImage(file, alt))
            attempt.slots.append(n)
    return images


def _save(upload: UploadFile, folder: Path, name: str, problems: list[FieldProblem]) -> str | None:
    """The upload in ``folder`` under a safe name of its own (its content's hash and its name's
    letters), or None with a problem when it is larger than any platform takes."""
    data = upload.file.read(MAX_UPLOAD + 1)
    shown = _safe_name(upload.filename or "")
    if len(data) > MAX_UPLOAD:
        problems.append(
            FieldProblem(
                name,
                f"{shown} is larger than {MAX_UPLOAD // 2**20} MB, the most any platform "
                "takes; choose a smaller image.",
            )
        )
        return None
    file = f"{hashlib.sha256(data).hexdigest()[:12]}-{shown}"
    (folder / file).write_bytes(data)
    return file


def _safe_name(filename: str) -> str:
    """The last part of an uploaded file's name, in letters, digits, '.', '-' and '_' only."""
    base = re.split(r"[/\\]", filename)[-1]
    return _UNSAFE.sub("-", base).strip(".-")[-60:] or "image"


def _definition(
    form: QueueForm, images: Sequence[DraftImage], new_id: str | None
) -> dict[str, Any]:
    """The post in the campaign file's shape, by the CLI's builder; editing (``new_id`` None),
    the changes to the stored post: every field the form sets, an emptied one as None."""
    if form.when not in ("next", "at", "keep"):
        raise UsageError(f"when {form.when!r}: expected 'next' (next free slot) or 'at' (a time)")
    if form.when == "at" and not form.at:
        raise UsageError("at: give the date and time, or choose the next free slot")
    draft = Draft(
        texts={lang: text for lang, text in form.texts.items() if text},
        images=images,
        warnings={lang: text for lang, text in form.warnings.items() if text},
        embassies=form.embassies,
        platforms=form.platforms,
        at=form.at if form.when == "at" else None,
        at_name="at",
        replies=form.replies or None,
        visibility=form.visibility or None,
    )
    fields = post_fields(draft)
    if new_id is not None:
        return {"id": form.id or new_id, **fields}
    changes: dict[str, Any] = {key: fields.get(key) for key in _EDITED}
    changes["targets"] = {**form.other_targets, **fields.get("targets", {})} or None
    if form.when != "keep":  # a new time, or none (the next free slot): the old one goes
        changes.update({key: fields.get(key) for key in TIME_FIELDS})
    return changes


_EDITED = ("text", "images", "content_warning", "replies", "visibility")
"""The fields the form sets; an edit changes them all (an emptied one is removed)."""


def _check(visit: Visit, attempt: Attempt, choices: QueueChoices, editing: str | None) -> None:
    check = queue.check_post(
        visit.database,
        attempt.definition,
        folder=attempt.folder,
        editing=editing,
        campaign_id=choices.campaign_id,
        now=visit.now(),
    )
    attempt.check = check
    attempt.problems += [_at_field(p, attempt.slots, choices) for p in check.problems]


def _at_field(problem: Problem, slots: Sequence[int], choices: QueueChoices) -> FieldProblem:
    """The problem, at the form field it is about."""
    path = problem.path
    message = (
        problem.message
        if problem.expected is None
        else f"{problem.message}; expected {problem.expected}"
    )
    if path[:2] != ("posts", 0) or len(path) < 3:
        return FieldProblem(None, message, problem.severity)
    return FieldProblem(_field_of(path[2:], slots, choices), message, problem.severity)


def _field_of(path: Sequence[str | int], slots: Sequence[int], choices: QueueChoices) -> str | None:
    key, rest = str(path[0]), list(path[1:])
    language = str(rest[0]) if rest else choices.default_language
    if key == "text":
        return f"text_{language}"
    if key == "content_warning":
        return f"content_warning_{language}"
    if key == "images":
        index = rest[0] if rest and isinstance(rest[0], int) else 0
        n = slots[index] if index < len(slots) else 1
        if len(rest) >= 2 and rest[1] == "alt":
            return f"alt_{n}_{rest[2] if len(rest) > 2 else choices.default_language}"
        return f"image_{n}"
    if key == "targets":
        return "platform" if rest and rest[0] == "platforms" else "embassy"
    return FIELD_OF_KEY.get(key)


# --- the pages ---------------------------------------------------------------------------------


@require(Permission.QUEUE)
def new_post(visit: Visit) -> Response:
    choices = queue.queue_choices(visit.database, visit.campaign)
    return _page(visit, choices, QueueForm(), None)


@require(Permission.QUEUE)
def queue_post(visit: Visit) -> Response:
    choices = queue.queue_choices(visit.database, visit.campaign)
    with _attempt(visit, choices, None, None) as attempt:
        if not attempt.ok:
            return _page(visit, choices, attempt.form, None, attempt)
        try:
            change = queue.queue_add(
                visit.database,
                attempt.definition,
                actor=visit.user.name,
                folder=attempt.folder,
                campaign_id=choices.campaign_id,
                now=visit.now(),
            )
        except ConfigurationError as exc:  # what changed since the check: another post, time
            _refused(attempt, exc, choices)
            return _page(visit, choices, attempt.form, None, attempt)
    return visit.redirect(f"/posts/{change.post_id}", flash=_done("Queued", change))


@require(Permission.QUEUE)
def check(visit: Visit) -> Response:
    """The live validation beside the form (htmx): 200 whatever it finds; nothing written."""
    choices = queue.queue_choices(visit.database, visit.campaign)
    editing = visit.field("editing") or None
    stored = _stored_form(visit, choices, editing) if editing else None
    with _attempt(visit, choices, editing, stored) as attempt:
        return visit.fragment("web/queue_check.html", **_panel(visit, attempt, choices))


@require(Permission.QUEUE)
def edit_form(visit: Visit) -> Response:
    post_id = visit.request.path_params["post_id"]
    choices = queue.queue_choices(visit.database, visit.campaign)
    return _page(visit, choices, _stored_form(visit, choices, post_id), post_id)


@require(Permission.QUEUE)
def save_edit(visit: Visit) -> Response:
    post_id = visit.request.path_params["post_id"]
    choices = queue.queue_choices(visit.database, visit.campaign)
    stored = _stored_form(visit, choices, post_id)
    with _attempt(visit, choices, post_id, stored) as attempt:
        if not attempt.ok:
            return _page(visit, choices, attempt.form, post_id, attempt)
        try:
            change = queue.queue_edit(
                visit.database,
                post_id,
                attempt.definition,
                actor=visit.user.name,
                folder=attempt.folder,
                campaign_id=choices.campaign_id,
                now=visit.now(),
            )
        except ConfigurationError as exc:
            _refused(attempt, exc, choices)
            return _page(visit, choices, attempt.form, post_id, attempt)
    return visit.redirect(f"/posts/{post_id}", flash=_done("Saved", change))


def _stored_form(visit: Visit, choices: QueueChoices, post_id: str) -> QueueForm:
    definition = queue.queued_definition(visit.database, post_id, campaign_id=choices.campaign_id)
    return _stored(post_id, definition)


def _refused(attempt: Attempt, exc: ConfigurationError, choices: QueueChoices) -> None:
    if isinstance(exc, CampaignFileError):
        attempt.problems += [_at_field(p, attempt.slots, choices) for p in exc.problems]
    else:
        attempt.problems.append(FieldProblem(None, str(exc)))


def _done(verb: str, change: PostChange) -> str:
    """The flash message: what was done, whether it waits for approval, where it went."""
    states = {str(item.state) for item in change.report.changes}
    waiting = "awaiting_approval" in states
    text = f"{verb} post {change.post_id} (version {change.version}): " + (
        "awaiting approval by a second person" if waiting else "scheduled"
    )
    if change.placement:
        slots = ", ".join(
            f"{embassy} {local.replace('T', ' ')}"
            for embassy, local in sorted(change.placement.items())
        )
        text += f"; next free slot (local time): {slots}"
    return text


def _page(
    visit: Visit,
    choices: QueueChoices,
    form: QueueForm,
    editing: str | None,
    attempt: Attempt | None = None,
) -> Response:
    """The form (a new post, or ``editing`` a queued one), with what is wrong with it if it
    was posted: 400 then, with the error summary at the top and each error at its field."""
    problems = attempt.problems if attempt is not None else []
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.is_error and problem.field is not None:
            errors.setdefault(problem.field, []).append(problem.message)
    return visit.render(
        "web/queue_form.html",
        status=400 if attempt is not None and not attempt.ok else 200,
        choices=choices,
        form=form,
        editing=editing,
        problems=[p for p in problems if p.is_error],
        errors=errors,
        panel=_panel(visit, attempt, choices) if attempt is not None else None,
        more_images_open=any(_slot_used(form, errors, n) for n in SLOTS[1:]),
        warnings_open=any(form.warnings.values())
        or any(name.startswith("content_warning_") for name in errors),
        slots=SLOTS,
        image_types=IMAGE_TYPES,
        max_upload_mb=MAX_UPLOAD // 2**20,
        replies_options=[str(r) for r in Replies],
        visibility_options=[str(v) for v in Visibility],
    )


def _slot_used(form: QueueForm, errors: Mapping[str, list[str]], n: int) -> bool:
    """Whether image slot ``n`` holds anything to show: an image, alt text, an error."""
    named = (f"image_{n}", *(f"alt_{n}_{lang}" for lang in form.alts.get(n, {})))
    return n in form.kept or any(form.alts.get(n, {}).values()) or bool(errors.keys() & set(named))


@dataclass(frozen=True)
class CountRow:
    """The longest text of one language on one platform, against the platform's limit."""

    platform: str
    language: str
    counts: dashboard.LimitCounts
    copies: int


def _panel(visit: Visit, attempt: Attempt, choices: QueueChoices) -> dict[str, Any]:
    """What the live validation shows: the problems, the counts, the next free slots."""
    check = attempt.check
    slots: dict[str, str] = {}
    slot_error = None
    if attempt.form.when == "next" and attempt.definition:
        found = check.slots if check is not None and check.slots else None
        try:
            found = found or dashboard.next_free_slots(
                visit.database, attempt.definition, campaign_id=choices.campaign_id, now=visit.now()
            )
        except UsageError as exc:
            slot_error = str(exc)
        slots = {e: s.local.strftime("%Y-%m-%d %H:%M") for e, s in (found or {}).items()}
    return {
        "check_problems": attempt.problems,
        "counts": _counts(check),
        "free_slots": slots,
        "slot_error": slot_error,
        "checked": check is not None,
    }


def _counts(check: QueueCheck | None) -> list[CountRow]:
    worst: dict[tuple[str, str], tuple[dashboard.LimitCounts, int]] = {}
    for delivery in check.deliveries if check is not None else ():
        counts = dashboard.limit_counts(delivery)
        key = (str(delivery.platform), delivery.language)
        seen = worst.get(key)
        if seen is None or counts.length - counts.limit > seen[0].length - seen[0].limit:
            worst[key] = (counts, (seen[1] if seen else 0) + 1)
        else:
            worst[key] = (seen[0], seen[1] + 1)
    order = {str(platform): n for n, platform in enumerate(Platform)}
    return [
        CountRow(platform, language, counts, copies)
        for (platform, language), (counts, copies) in sorted(
            worst.items(), key=lambda item: (order[item[0][0]], item[0][1])
        )
    ]
