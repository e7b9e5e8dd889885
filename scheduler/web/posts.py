"""The posts: ``/posts`` (those awaiting approval first: an approver's to-do list), one post at
``/posts/{post_id}`` (its text, the per-platform cards of its exact deliveries, counts against
limits, images, deliveries, approvals), approving and cancelling it. The cards show their
images from ``/media/{sha256}`` (web/media.py).

Approving and cancelling go through the service as the CLI's `campaign approve` and `campaign
queue cancel` do, under the same rules: the two-person rule's refusal, and any other, is shown
on the post's page in words, never as a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from scheduler.errors import StoreError, UsageError
from scheduler.service import dashboard, queue
from scheduler.service.dashboard import DisplayState, NoSuchPost, PostDetail
from scheduler.service.users import Permission, User
from scheduler.views.preview.html import render_cards
from scheduler.web.auth import require
from scheduler.web.context import Visit
from scheduler.web.errors import PageNotFound, role_needed

CARDS_SHOWN = 60
"""Deliveries drawn as cards at most: a post to every embassy of a large campaign has
thousands; past this, the page asks for one embassy."""
RETRACT_DOCS = 'docs/cli.md, "campaign retract"'


# --- the list -----------------------------------------------------------------------------------


@require(Permission.VIEW)
def post_list(visit: Visit) -> Response:
    posts = dashboard.post_list(visit.database, campaign_id=visit.campaign)
    awaiting = [item for item in posts if item.awaiting_approval]
    return visit.render("web/posts.html", posts=posts, awaiting=awaiting)


# --- one post -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageShown:
    """An image of the post, once, with its alt text in each language it goes out in."""

    part: int
    file: str
    sha256: str | None
    """None when no delivery carries it (every copy of the post left it out)."""
    alts: dict[str, str]


@dataclass(frozen=True)
class Actions:
    """What the user may do with the post; each ``*_blocked`` says why not, in words."""

    approve_blocked: str | None
    cancel_blocked: str | None
    edit_blocked: str | None


@require(Permission.VIEW)
def post_view(visit: Visit) -> Response:
    return _show(visit, _detail(visit))


def _detail(visit: Visit) -> PostDetail:
    post_id = visit.request.path_params["post_id"]
    try:
        return dashboard.post_detail(
            visit.database, post_id, campaign_id=visit.campaign, now=visit.now()
        )
    except NoSuchPost as exc:
        raise PageNotFound(f"{exc}. The Posts page lists them all.") from None


def _show(visit: Visit, detail: PostDetail, *, status: int = 200, **context: Any) -> Response:
    """The post's page; ``context`` may add ``error`` (an action refused, said at the top of
    the actions) and ``cancel_error`` (the cancel form's field refused)."""
    embassy = visit.request.query_params.get("embassy") or None
    shown = [d for d in detail.deliveries if embassy is None or d.embassy_id == embassy]
    images = {m.sha256: f"/media/{m.sha256}" for d in shown for m in d.media}
    cards = render_cards([d.planned for d in shown[:CARDS_SHOWN]], images)
    context = {"error": None, "cancel_error": None, "reason": "", **context}
    return visit.render(
        "web/post.html",
        status=status,
        post=detail,
        deliveries=shown,
        embassy=embassy,
        embassies=sorted({d.embassy_id for d in detail.deliveries}),
        cards=cards,
        cards_shown=min(len(shown), CARDS_SHOWN),
        images=_images(detail),
        actions=_actions(detail, visit.user),
        sent=[d for d in detail.deliveries if d.state is DisplayState.SENT],
        retract_docs=RETRACT_DOCS,
        **context,
    )


def _images(detail: PostDetail) -> list[ImageShown]:
    """The post's images as written (file, alt text per language), with the stored content of
    each where a delivery carries it, for the thumbnail."""
    stored = {(d.part, m.file): m.sha256 for d in detail.deliveries for m in d.media}
    return [
        ImageShown(number, image.file, stored.get((number, image.file)), dict(image.alt))
        for number, part in enumerate(detail.definition.parts(), start=1)
        for image in part.images
    ]


def _actions(detail: PostDetail, user: User) -> Actions:
    return Actions(
        approve_blocked=_approve_blocked(detail, user),
        cancel_blocked=_cancel_blocked(detail, user),
        edit_blocked=_edit_blocked(detail, user),
    )


def _needs(permission: Permission, user: User, doing: str) -> str | None:
    if user.may(permission):
        return None
    role = role_needed(permission)
    return f"{doing} needs the {role} role; you are logged in as {user.role}."


def _approve_blocked(detail: PostDetail, user: User) -> str | None:
    current = [a for a in detail.approvals if a.current]
    if detail.cancelled_at is not None:
        return "The post is cancelled: there is nothing to approve."
    if current:
        return f"Version {detail.version} is approved (by {current[0].approver}): nothing to do."
    if not detail.approval_required:
        return "This campaign does not require approval: the post goes out without it."
    if detail.two_person_rule and detail.author == user.name:
        return (
            f"You wrote version {detail.version}: the campaign's two-person rule needs someone "
            "else to approve it."
        )
    return _needs(Permission.APPROVE, user, "Approving")


def _cancel_blocked(detail: PostDetail, user: User) -> str | None:
    if detail.cancelled_at is not None:
        return "The post is cancelled already: none of its copies goes out."
    return _needs(Permission.QUEUE, user, "Cancelling")


def _edit_blocked(detail: PostDetail, user: User) -> str | None:
    if detail.origin != "queue":
        return (
            "This post comes from the campaign file: it is edited there, then loaded again "
            "with campaign sync FILE."
        )
    if detail.cancelled_at is not None:
        return "A cancelled post cannot be edited; queue a new post instead."
    return _needs(Permission.QUEUE, user, "Editing")


# --- approving ----------------------------------------------------------------------------------


@require(Permission.APPROVE)
def approve(visit: Visit) -> Response:
    """Approve the version the approver saw (field ``version``): a post edited meanwhile is
    not approved unread."""
    detail = _detail(visit)
    back = f"/posts/{detail.post_id}"
    seen = visit.field("version")
    if seen and seen != str(detail.version):
        message = (
            f"The post changed since you opened it (version {seen}): it is now version "
            f"{detail.version}. Read it again below, then approve."
        )
        return _show(visit, detail, status=409, error=message)
    if detail.approved:
        return visit.redirect(back, flash=_already_approved(detail))
    try:
        _, version, released, past = queue.approve_post(
            visit.database,
            detail.post_id,
            approver=visit.user.name,
            campaign_id=detail.campaign_id,
            now=visit.now(),
        )
    except StoreError:  # approved by someone else in the meantime
        return visit.redirect(back, flash=_already_approved(_detail(visit)))
    except UsageError as exc:  # the two-person rule, or cancelled meanwhile
        two_person = detail.two_person_rule and detail.author == visit.user.name
        return _show(visit, detail, status=403 if two_person else 400, error=str(exc))
    deliveries = "delivery" if released == 1 else "deliveries"
    message = (
        f"Post {detail.post_id} version {version} approved by {visit.user.name}; "
        f"{released} {deliveries} scheduled."
    )
    if past:
        message += f" {past.describe()}."
    return visit.redirect(back, flash=message)


def _already_approved(detail: PostDetail) -> str:
    names = ", ".join(a.approver for a in detail.approvals if a.current)
    return (
        f"Post {detail.post_id} version {detail.version} was already approved by {names}; "
        "nothing changed."
    )


# --- cancelling ---------------------------------------------------------------------------------


@require(Permission.QUEUE)
def cancel(visit: Visit) -> Response:
    detail = _detail(visit)
    back = f"/posts/{detail.post_id}"
    reason = visit.field("reason")
    if not reason and detail.cancelled_at is None:
        refused = "reason: say why the post is cancelled (it goes into the audit log and report)"
        return _show(visit, detail, status=400, cancel_error=refused)
    change = queue.cancel_post(
        visit.database,
        detail.post_id,
        actor=visit.user.name,
        reason=reason,
        campaign_id=detail.campaign_id,
        now=visit.now(),
    )
    if change.already_cancelled is not None:
        when = f"{change.already_cancelled:%Y-%m-%d %H:%M} UTC"
        return visit.redirect(
            back, flash=f"Post {detail.post_id} was already cancelled ({when}); nothing changed."
        )
    states = [item.state for item in change.report.changes]
    return visit.redirect(back, flash=_cancelled(detail.post_id, states))


def _cancelled(post_id: str, states: list[str]) -> str:
    """What a cancel did: copies stopped, and those it could not stop, which stay out there."""
    stopped = states.count("cancelled")
    sent = states.count("sent")
    moving = len(states) - stopped - sent
    message = f"Post {post_id} cancelled: {_copies(stopped)} will not go out."
    if sent:
        message += (
            f" {_copies(sent)} already sent stay on the platforms (cancelling deletes nothing): "
            "see below how to take them down."
        )
    if moving:
        verb = "was" if moving == 1 else "were"
        message += f" {_copies(moving)} {verb} being sent at that moment: see below if it went."
    return message


def _copies(count: int) -> str:
    return f"{count} cop{'y' if count == 1 else 'ies'}"
