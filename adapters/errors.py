"""The error tree's root and its publish branch: the errors an adapter can raise.

They live here, at the bottom of the dependency graph, so that ``adapters`` imports nothing from
``scheduler``; ``scheduler.errors`` adds the branches of the campaign file, the commands and the
store under the same root, and the CLI maps every one of them to a message in one place::

    CampaignError                   root of every error this project raises on purpose
    ├── ConfigurationError          something the user wrote is wrong: a file, an option, a secret
    └── PublishError                a platform call failed
        ├── TransientError          nothing went out; retrying later is safe
        │   ├── RateLimited         ``reset_at``: the aware UTC instant the platform lets us back
        │   ├── NetworkError        the request could not be sent, or a safe call lost its answer
        │   │   └── Timeout         ... because a connect or read deadline passed
        │   └── ServerError         the platform answered 5xx
        ├── PermanentError          the same call will fail the same way; do not retry
        │   ├── ContentRejected     a 4xx about the content itself: too long, bad media, bad reply
        │   ├── CredentialsInvalid  the token or password is wrong, expired for good, or revoked
        │   ├── OutOfQuota          the account has no credit left (X answers 402)
        │   └── Duplicate           already posted (X's 403 "duplicate content")
        └── OutcomeUnknown          the request may have reached the platform: a read timeout or
                                    a dropped connection after a post was sent. Neither retrying
                                    (a double post) nor giving up (a missing post) is safe: look
                                    for the post first (``Adapter.find_published``).
"""

from __future__ import annotations

import datetime as dt


class CampaignError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(CampaignError):
    """The input is wrong: a file, an option or a setting."""


class PublishError(CampaignError):
    """A platform call failed; the subclasses say whether to retry."""


class TransientError(PublishError):
    """Nothing went out; the same call may succeed later."""


class RateLimited(TransientError):
    def __init__(self, message: str, *, reset_at: dt.datetime) -> None:
        super().__init__(f"{message} (resets at {reset_at:%Y-%m-%d %H:%M:%S} UTC)")
        self.reset_at = reset_at
        """Aware UTC instant after which the platform accepts calls again."""


class NetworkError(TransientError):
    """The platform could not be reached, or a call that is safe to repeat lost its answer."""


class Timeout(NetworkError):
    """A connect deadline (or a read deadline on a call that is safe to repeat) passed."""


class ServerError(TransientError):
    """The platform answered 5xx."""


class PermanentError(PublishError):
    """Retrying the same call fails the same way: a person has to act."""


class ContentRejected(PermanentError):
    """The platform refused the content itself: length, media, language, reply target."""


class CredentialsInvalid(PermanentError):
    """Wrong, expired or revoked credentials."""


class OutOfQuota(PermanentError):
    """The account or app has no credit or quota left (X: 402 Payment Required, or 429
    UsageCapExceeded for the month): the account is suspended until a person resumes it."""


class Duplicate(PermanentError):
    """The platform says this exact content is already posted (X: 403 duplicate content)."""


class OutcomeUnknown(PublishError):
    """The request may have reached the platform and been acted on; its answer was lost."""
