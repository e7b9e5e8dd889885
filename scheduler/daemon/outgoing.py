"""What one stored delivery sends: the rendered part, built in one place for the dispatcher (to
send it) and the housekeeper (to look for it after an unknown outcome)."""

from __future__ import annotations

from adapters.base import MediaItem, OutgoingPart, idempotency_key
from scheduler.store.database import Session
from scheduler.store.deliveries import media_bytes, thread_remote_ids
from scheduler.store.documents import DeliveryPayload
from scheduler.store.schema import Delivery


def outgoing_part(session: Session, row: Delivery) -> OutgoingPart:
    payload = DeliveryPayload.of(row)
    media = tuple(
        MediaItem(mime=item.mime, alt=item.alt, data=media_bytes(session, item.sha256),
                  width=item.width, height=item.height)
        for item in payload.media
    )  # fmt: skip
    reply_to, root = thread_remote_ids(session, row)
    return OutgoingPart(
        text=payload.text,
        idempotency_key=idempotency_key(row.key, row.content_hash),
        media=media,
        language=row.language,
        content_warning=payload.content_warning,
        visibility=payload.visibility,
        replies=payload.replies,
        in_reply_to=reply_to,
        thread_root=root,
        scheduled_at=row.due_at,
    )
