"""``/pauses``: the kill switch. Anyone may pull the brake (everything, one embassy or one
platform of the campaign, with a reason); lifting it takes an approver. Also the accounts the
daemon suspended, which a resume releases.

A pause holds from the moment it is written, for every daemon (the claim checks it); a
delivery being sent at that moment (its platform call under way) still goes out or fails, and
the message after pausing says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import Response

from scheduler.errors import UsageError
from scheduler.service import control, users
from scheduler.service.control import ActivePause, Held, KillSwitch, Scope
from scheduler.service.users import Permission
from scheduler.views.reporting.status import scope_label
from scheduler.web.auth import require
from scheduler.web.context import Visit

PAGE = "/pauses"
SCOPES = ("all", "embassy", "platform")
REASON_LIMIT = 500
"""Characters of a reason: a sentence or two, shown on every page."""


@dataclass
class PauseForm:
    """The pause form as typed, and what is wrong with it (by field name)."""

    scope: str = "all"
    embassy: str = ""
    platform: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@require(Permission.VIEW)
def pauses_page(visit: Visit) -> Response:
    return _page(visit, _kill_switch(visit), PauseForm())


@require(Permission.PAUSE)
def pause(visit: Visit) -> Response:
    """Pause the scope chosen; a form with a mistake comes back with it, nothing written."""
    data = _kill_switch(visit)
    form = PauseForm(
        scope=visit.field("scope") or "all",
        embassy=visit.field("embassy"),
        platform=visit.field("platform"),
        reason=visit.field("reason"),
    )
    scope = _scope(form, data)
    if scope is None:
        return _page(visit, data, form, status=400)
    already = control.covering(data.pauses, scope)
    pause_id = control.pause(
        visit.database, scope, reason=form.reason, actor=visit.user.name, now=visit.now()
    )
    held = control.held(visit.database, scope)
    return visit.redirect(PAGE, flash=paused_message(scope, pause_id, held, already, form.reason))


@require(Permission.RESUME)
def resume(visit: Visit) -> Response:
    """``pause_id``: lift that pause. ``all=1``: lift every pause that stops the campaign and
    release its suspended accounts. ``embassy`` and ``platform``: release that account (and
    lift the pauses of exactly that scope)."""
    try:
        lifted, released = _resume(visit)
    except UsageError as exc:  # nothing to resume (someone was quicker), or bad input
        return _page(visit, _kill_switch(visit), PauseForm(), status=400, error=str(exc))
    return visit.redirect(PAGE, flash=resumed_message(lifted, released))


def _resume(visit: Visit) -> tuple[int, int]:
    actor, now = visit.user.name, visit.now()
    if visit.field("all") == "1":
        campaign = _kill_switch(visit).campaign_id
        return control.resume_everything(visit.database, campaign, actor=actor, now=now)
    if visit.field("pause_id"):
        return control.resume(
            visit.database, pause_id=_pause_id(visit.field("pause_id")), actor=actor, now=now
        )
    embassy, platform = visit.field("embassy"), visit.field("platform")
    if embassy and platform:
        scope = Scope(_kill_switch(visit).campaign_id, embassy, platform)
        return control.resume(visit.database, scope, actor=actor, now=now)
    raise UsageError("say what to resume: a pause (pause_id), an account, or everything (all=1)")


def _pause_id(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"pause_id {text[:20]!r}: expected a pause number; nothing was resumed")
    return int(text)


def _kill_switch(visit: Visit) -> KillSwitch:
    return control.kill_switch(visit.database, visit.campaign, now=visit.now())


def _scope(form: PauseForm, data: KillSwitch) -> Scope | None:
    """The scope the form names, or None with ``form.errors`` filled."""
    if form.scope not in SCOPES:
        form.errors["scope"] = "Choose what to pause: everything, one embassy or one platform."
    elif form.scope == "all" and (form.embassy or form.platform):
        # an embassy chosen in the list, the choice left on "Everything": ask, not guess
        form.errors["scope"] = (
            "You chose an embassy or a platform in a list, but Everything here: choose One "
            "embassy or One platform to pause only that, or empty the list to pause everything."
        )
    elif form.scope == "embassy" and form.embassy not in data.embassies:
        form.errors["embassy"] = _choose("embassy", form.embassy, data.embassies)
    elif form.scope == "platform" and form.platform not in data.platforms:
        form.errors["platform"] = _choose("platform", form.platform, data.platforms)
    if not form.reason:
        form.errors["reason"] = (
            "Say why: the reason is shown to the team on every page and kept in the audit log."
        )
    elif len(form.reason) > REASON_LIMIT:
        form.errors["reason"] = f"Keep the reason under {REASON_LIMIT} characters."
    if form.errors:
        return None
    return Scope(
        data.campaign_id,
        form.embassy if form.scope == "embassy" else None,
        form.platform if form.scope == "platform" else None,
    )


def _choose(noun: str, given: str, offered: list[str]) -> str:
    known = ", ".join(offered) or "none yet"
    if not given:
        return f"Choose the {noun} to pause (one of: {known})."
    return f"There is no {noun} {given[:40]!r} in this campaign; choose one of: {known}."


def paused_message(
    scope: Scope, pause_id: int, held: Held, already: list[ActivePause], reason: str
) -> str:
    """What pausing did, for the flash message: what is held, what may still go out."""
    parts = [
        f"Paused {scope.describe()} (pause {pause_id}): "
        f"{_deliveries(held.unsent)} not sent yet {'is' if held.unsent == 1 else 'are'} held."
    ]
    if held.sending:
        parts.append(
            f"{_deliveries(held.sending)} being sent right now may still go out "
            "(a pause cannot stop a call already under way)."
        )
    if already:
        listed = "; ".join(f"pause {p.id}: {scope_label(p)}, by {p.author}" for p in already)
        parts.append(f"It was already stopped ({listed}): each pause must be resumed.")
    parts.append(f"Reason: {reason}")
    return " ".join(parts)


def resumed_message(lifted: int, released: int) -> str:
    return (
        f"Resumed: {lifted} pause{'s' * (lifted != 1)} lifted, "
        f"{released} account{'s' * (released != 1)} released. Deliveries that became too late "
        "while paused are reported as missed, not sent late."
    )


def _deliveries(count: int) -> str:
    return f"{count} deliver{'y' if count == 1 else 'ies'}"


def _page(
    visit: Visit,
    data: KillSwitch,
    form: PauseForm,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    may_resume = visit.user.may(Permission.RESUME)
    resumers = (
        []
        if may_resume
        else [user.name for user in users.list_users(visit.database) if user.may(Permission.RESUME)]
    )
    return visit.render(
        "web/pauses.html",
        status=status,
        data=data,
        form=form,
        error=error,
        may_resume=may_resume,
        resumers=resumers,
        scope_label=scope_label,
        reason_limit=REASON_LIMIT,
    )
