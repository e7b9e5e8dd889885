"""The `campaign` command: one sub-command per job.

This is the one place where library errors become messages for people: a CampaignError prints
what is wrong and exits non-zero, never with a traceback. Each module of this package holds the
commands of one job: planning (validate, schema, preview), the store (db, sync), the queue,
reports (status, report), engagement (the platforms' counts), the daemon (run), control (pause,
resume, retract), the accounts (auth, check), the dashboard's users and the web dashboard (web).
"""

from __future__ import annotations

from scheduler.cli import (
    accounts,
    control,
    daemon,
    engagement,
    planning,
    queue,
    reports,
    store,
    users,
    web,
)
from scheduler.cli.common import EXIT_PROBLEMS, EXIT_USAGE, main

__all__ = [
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "accounts",
    "control",
    "daemon",
    "engagement",
    "main",
    "planning",
    "queue",
    "reports",
    "store",
    "users",
    "web",
]
