"""The dry-run adapter: accepts a post as the platform would, records it, sends nothing.

It checks what the platform would check first (length as the platform counts it, number of
images, alt-text length), so a dry run fails where a real run would, and it answers in the
same shape as a real publish: a :class:`Published` whose remote id is ``dry-run:<key>``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import ClassVar

from adapters.base import (
    AccountCheck,
    AccountLimits,
    Adapter,
    AdapterSettings,
    OutgoingPart,
    PostMetrics,
    Published,
)
from adapters.capabilities import CAPABILITIES, Platform
from adapters.errors import ContentRejected
from adapters.secrets import Secret
from adapters.textlength import too_long

log = logging.getLogger(__name__)


class DryRunAdapter(Adapter):
    """Subclassed once per platform by :func:`dry_run_class`, which sets ``capabilities``."""

    credential_fields: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str | None] = "dry-run://nowhere"
    metrics_batch: ClassVar[int] = 100

    def __init__(
        self,
        *,
        settings: AdapterSettings,
        credentials: Mapping[str, Secret] | None = None,
        base_url: str | None = None,
    ) -> None:
        super().__init__(settings=settings, credentials=credentials or {}, base_url=base_url)
        self.sent: list[tuple[OutgoingPart, Published]] = []
        """Every accepted part with what publish returned, in order."""
        self.deleted: list[str] = []

    def publish(self, part: OutgoingPart) -> Published:
        self._check(part)
        remote_id = f"dry-run:{part.idempotency_key}"
        url = self.capabilities.post_url.format(
            handle=self.settings.handle.lstrip("@"),
            id=remote_id,
            instance=self.settings.instance or self.base_url,
        )
        media_ids = tuple(f"{remote_id}:media:{n}" for n in range(1, len(part.media) + 1))
        published = Published(self.platform, remote_id, url, self.now(), media_ids)
        self.sent.append((part, published))
        return published

    def delete(self, remote_id: str) -> None:
        self.deleted.append(remote_id)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """Nothing: a dry-run post was never seen by anyone, and no count is invented for it
        (an empty result, and a log line saying why)."""
        if remote_ids:
            log.info(
                "%s %s: dry run: no engagement counts for %d posts (nothing was posted)",
                self.capabilities.label,
                self.settings.handle,
                len(remote_ids),
            )
        return []

    def verify(self) -> AccountCheck:
        caps = self.capabilities
        limits = AccountLimits(
            caps.max_length, caps.max_images, caps.max_image_bytes, None, caps.max_alt_text
        )
        return AccountCheck(
            self.platform, f"dry-run:{self.settings.handle}", self.settings.handle, None, limits
        )

    def find_published(
        self, part: OutgoingPart, *, since: dt.datetime, taken: Collection[str] = frozenset()
    ) -> Published | None:
        return next(
            (
                published
                for sent, published in self.sent
                if sent.idempotency_key == part.idempotency_key
                and published.remote_id not in self.deleted
                and published.remote_id not in taken
            ),
            None,
        )

    def _check(self, part: OutgoingPart) -> None:
        caps = self.capabilities
        over = too_long(part.text, caps)
        if over is not None:
            raise ContentRejected(
                f"{caps.label}: text is {over.length} characters, {over.expected}"
            )
        if len(part.media) > caps.max_images:
            raise ContentRejected(f"{caps.label}: {len(part.media)} images, over {caps.max_images}")
        for item in part.media:
            if len(item.alt) > caps.max_alt_text:
                raise ContentRejected(f"{caps.label}: alt text over {caps.max_alt_text} characters")


@cache
def dry_run_class(platform: Platform) -> type[DryRunAdapter]:
    """The dry-run adapter standing in for ``platform``, with its capabilities."""
    name = f"DryRun{CAPABILITIES[platform].label}Adapter"
    return type(
        name, (DryRunAdapter,), {"capabilities": CAPABILITIES[platform], "__module__": __name__}
    )
