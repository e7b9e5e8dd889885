"""Getting an account's credentials with a person's help (``campaign auth``).

The platform's flow (X's PIN, Mastodon's authorization code, a Bluesky app password) lives in
its adapter (``Adapter.authorization``); this module runs it for one account of the campaign:
asks for what is needed through the caller's ``ask``, checks who the credentials belong to, and
stores them in the secrets file (or hands back ``export`` lines). Nothing here prints; a secret
is never in a message, and never leaves as anything but a :class:`Secret` or an ``export`` line
the person asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from adapters import registry
from adapters.base import AccountCheck, Adapter, AdapterSettings, MemoryState
from adapters.errors import CredentialsInvalid
from adapters.secrets import (
    Secret,
    env_lines,
    env_name,
    load_credentials,
    save_credentials,
    session_state,
)
from scheduler.errors import ConfigurationError
from scheduler.service.preflight import AccountRef, connection, same_handle
from scheduler.settings import Settings


class Ask(Protocol):
    """Asks the person for ``label``; ``hide``: what they type is a secret, not to be echoed."""

    def __call__(self, label: str, *, hide: bool) -> str: ...


Tell = Callable[[str], None]


@dataclass(frozen=True)
class Authorized:
    ref: AccountRef
    check: AccountCheck
    """Who the new credentials belong to, as the platform says."""
    fields: tuple[str, ...]
    stored_in: Path | None = None
    exports: tuple[str, ...] = ()
    """``export`` lines, when asked for instead of storing. They hold the secrets."""
    shadowed_by: tuple[str, ...] = ()
    """Environment variables set now that win over the file for this account (lookup order)."""


def authorize(
    ref: AccountRef,
    settings: Settings,
    *,
    ask: Ask,
    tell: Tell,
    secrets_file: Path,
    store: bool = True,
    app_from: str | None = None,
) -> Authorized:
    """Run the platform's flow for ``ref``; store the result unless ``store`` is false."""
    cls = registry.adapter_class(ref.platform)
    app = _app_credentials(cls, ref, ask, tell, secrets_file, app_from)
    # A Bluesky session made while checking the password is kept for the daemon, beside the file.
    state = session_state(ref.credentials, file=secrets_file) if store else MemoryState()
    adapter_settings, base_url = connection(ref, settings, state)
    flow = cls.authorization(settings=adapter_settings, app=app, base_url=base_url)
    url = flow.authorization_url()
    tell(flow.instructions.format(handle=ref.handle or "the account"))
    tell(url)
    credentials = flow.finish(ask(flow.code_label, hide=flow.hide_code))
    check = _verified(cls, ref, adapter_settings, credentials, base_url)
    fields = tuple(credentials)
    if not store:
        return Authorized(
            ref, check, fields, exports=tuple(env_lines(ref.credentials, credentials))
        )
    path = save_credentials(ref.credentials, credentials, file=secrets_file)
    shadowed = tuple(
        env_name(ref.credentials, name)
        for name in fields
        if env_name(ref.credentials, name) in os.environ
    )
    return Authorized(ref, check, fields, stored_in=path, shadowed_by=shadowed)


def _app_credentials(
    cls: type[Adapter],
    ref: AccountRef,
    ask: Ask,
    tell: Tell,
    secrets_file: Path,
    app_from: str | None,
) -> dict[str, Secret]:
    """The app's own credentials (X's consumer key and secret): from ``app_from``'s entry, or
    the account's own entry if it has them, or asked for."""
    if not cls.app_fields:
        return {}
    source = app_from or ref.credentials
    try:
        found = load_credentials(source, cls.app_fields, file=secrets_file)
    except ConfigurationError:
        if app_from is not None:
            raise
    else:
        tell(f"Using the app's {' and '.join(_label(f) for f in cls.app_fields)} of {source!r}.")
        return found
    label = cls.capabilities.label
    return {name: Secret(ask(f"{label} {_label(name)}", hide=True)) for name in cls.app_fields}


def _label(field: str) -> str:
    return field.replace("_", " ")


def _verified(
    cls: type[Adapter],
    ref: AccountRef,
    settings: AdapterSettings,
    credentials: Mapping[str, Secret],
    base_url: str | None,
) -> AccountCheck:
    """Who the credentials belong to; refused before anything is stored if not ``ref``'s."""
    adapter = cls(settings=settings, credentials=credentials, base_url=base_url)
    try:
        check = adapter.verify()
    finally:
        adapter.close()
    if ref.handle and not same_handle(ref.handle, check.handle):
        raise CredentialsInvalid(
            f"{cls.capabilities.label}: these credentials belong to {check.handle}, not "
            f"{ref.handle} (was the browser logged in to another account?); nothing was stored"
        )
    return check
