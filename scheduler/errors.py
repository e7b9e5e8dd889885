"""The errors this project raises, as one tree.

    CampaignError
    ├── ConfigurationError          something the user wrote is wrong; fix the input
    │   ├── CampaignFileError       campaigns.yaml has problems (all of them are attached)
    │   └── UsageError              a command was given options that do not fit together
    ├── StoreError                  the database could not do what was asked
    │   ├── NoSuchDatabase          --database names a database that does not exist (exit 2)
    │   ├── DatabaseUnavailable     refused, lost, locked, read-only, full: the operator acts
    │   └── SchemaMismatch          the database's schema is older or newer than the program
    └── PublishError                a platform call failed (adapters.errors draws this branch)

The root, ConfigurationError and the publish branch live in ``adapters.errors``, below everything,
so that adapters raise into this tree without importing the scheduler.

Library code raises these; the CLI turns them into messages in one place
(scheduler.cli.common), so a user never sees a traceback for bad input.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.errors import CampaignError, ConfigurationError, PublishError
from scheduler.problems import Problem, summarize

__all__ = [
    "CampaignError",
    "CampaignFileError",
    "ConfigurationError",
    "DatabaseUnavailable",
    "NoSuchDatabase",
    "PublishError",
    "SchemaMismatch",
    "StoreError",
    "UsageError",
]


class CampaignFileError(ConfigurationError):
    """A campaign file has errors. ``problems`` holds every one found, warnings included."""

    def __init__(self, file: str, problems: Sequence[Problem]) -> None:
        self.file = file
        self.problems = list(problems)
        super().__init__(f"{file}: {summarize(self.problems)}")


class UsageError(ConfigurationError):
    """Options or arguments that do not fit together."""


class StoreError(CampaignError):
    """The store failed or refused an operation."""


class NoSuchDatabase(StoreError):
    """``--database`` names a database that does not exist, for a command that must not create
    one: most likely a typo, so a usage error (exit 2)."""


class DatabaseUnavailable(StoreError):
    """The database cannot do the work now: the server refused or dropped the connection,
    another program holds the lock, the file is read-only, the disk is full."""


class SchemaMismatch(StoreError):
    """The database's schema is not the one this program was written for."""
