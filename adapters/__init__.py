"""Platform adapters: one class per platform behind one interface (see adapters.base).

Importing this package never imports a platform SDK; only the adapter modules do
(``adapters.x``, ``adapters.mastodon``, ``adapters.bluesky``), and ``adapters.registry`` imports
them only when asked for one.
"""

from adapters.base import (
    AccountCheck,
    AccountLimits,
    Adapter,
    AdapterSettings,
    Authorization,
    MediaItem,
    MemoryState,
    OutgoingPart,
    PostMetrics,
    Published,
    StateStore,
    idempotency_key,
)
from adapters.capabilities import CAPABILITIES, Capabilities, LengthRule, Platform
from adapters.errors import (
    ContentRejected,
    CredentialsInvalid,
    Duplicate,
    NetworkError,
    OutcomeUnknown,
    OutOfQuota,
    PermanentError,
    RateLimited,
    ServerError,
    Timeout,
    TransientError,
)
from adapters.secrets import Secret, load_credentials, save_credentials

__all__ = [  # noqa: RUF022 - plain sorted, as tests/test_exported_members.py checks
    "AccountCheck",
    "AccountLimits",
    "Adapter",
    "AdapterSettings",
    "Authorization",
    "CAPABILITIES",
    "Capabilities",
    "ContentRejected",
    "CredentialsInvalid",
    "Duplicate",
    "LengthRule",
    "MediaItem",
    "MemoryState",
    "NetworkError",
    "OutOfQuota",
    "OutcomeUnknown",
    "OutgoingPart",
    "PermanentError",
    "Platform",
    "PostMetrics",
    "Published",
    "RateLimited",
    "Secret",
    "ServerError",
    "StateStore",
    "Timeout",
    "TransientError",
    "idempotency_key",
    "load_credentials",
    "save_credentials",
]
