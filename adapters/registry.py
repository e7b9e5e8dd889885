"""Adapters by platform name: the built-in ones, plus third parties' through an entry point.

Built-in adapters are listed here as import paths, not imported: loading the registry (as the
core does) must not import tweepy, Mastodon.py or atproto. A third party adds a platform with an
entry point in the ``campaign.adapters`` group, whose name is the platform name::

    [project.entry-points."campaign.adapters"]
    threads = "campaign_threads:ThreadsAdapter"

Entry points are read once per process; a name given twice (by two packages, or by a package
and a built-in) is refused rather than one silently winning.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points

from adapters.base import Adapter, AdapterSettings
from adapters.capabilities import Platform
from adapters.errors import ConfigurationError
from adapters.secrets import Secret

ENTRY_POINT_GROUP = "campaign.adapters"

BUILT_IN: dict[str, str] = {
    Platform.X.value: "adapters.x:XAdapter",
    Platform.MASTODON.value: "adapters.mastodon:MastodonAdapter",
    Platform.BLUESKY.value: "adapters.bluesky:BlueskyAdapter",
}


@cache
def _third_party() -> dict[str, str]:
    """name -> "module:attribute" for every entry point in the group, duplicates refused."""
    found: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in BUILT_IN or point.name in found:
            raise ConfigurationError(
                f"adapter {point.name!r} is registered twice "
                f"(entry point {point.value}, and {BUILT_IN.get(point.name) or found[point.name]})"
            )
        found[point.name] = point.value
    return found


def names() -> list[str]:
    """Every platform name an adapter is registered for."""
    return sorted({*BUILT_IN, *_third_party()})


def adapter_class(name: str, *, dry_run: bool = False) -> type[Adapter]:
    if dry_run and name in BUILT_IN:
        from adapters.dryrun import dry_run_class  # it loads the length counters

        return dry_run_class(Platform(name))
    target = BUILT_IN.get(name) or _third_party().get(name)
    if target is None:
        raise ConfigurationError(f"no adapter for platform {name!r}; known: {', '.join(names())}")
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if not (isinstance(found, type) and issubclass(found, Adapter)):
        raise ConfigurationError(f"adapter {name!r} ({target}) is not an Adapter subclass")
    return found


def create(
    name: str,
    *,
    settings: AdapterSettings,
    credentials: Mapping[str, Secret],
    base_url: str | None = None,
    dry_run: bool = False,
) -> Adapter:
    cls = adapter_class(name, dry_run=dry_run)
    return cls(settings=settings, credentials=credentials, base_url=base_url)
