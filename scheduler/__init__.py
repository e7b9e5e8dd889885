"""Campaign scheduler: plan, check, preview and send coordinated social-media campaigns.

The layers, each a folder that imports only the ones below it (``docs/architecture.md`` draws
them, ``tests/test_architecture.py`` enforces them)::

    scheduler.cli           the command line: parses, calls the service, prints a view
    scheduler.web           the web dashboard: the service and the views, served over HTTP
    scheduler.views         what people read: previews, status, reports (HTML from templates/)
    scheduler.service       one module per job: the only door for the CLI, the daemon's control
                            commands and the dashboard
    scheduler.daemon        the sending process: dispatcher, housekeeping, clocks, alerts, health
    scheduler.store         the database: every SQL statement lives here
    scheduler.settings      the operator's settings file; scheduler.defaults, the names and
                            numbers the commands' help shows
    scheduler.campaign      the campaign file -> validated model -> planned deliveries (pure)
    scheduler.errors        the error tree, and scheduler.problems, located problems in a file
    adapters                one class per platform; imports nothing from scheduler

The names below are the public API. They load on first use, so that ``import scheduler`` (and
with it every ``campaign`` command) loads nothing it does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.campaign.loader import LoadedCampaign, load_file
    from scheduler.campaign.model import CampaignFile, json_schema
    from scheduler.campaign.planner import Attachment, Delivery, Plan, plan
    from scheduler.errors import (
        CampaignError,
        CampaignFileError,
        ConfigurationError,
        PublishError,
        StoreError,
        UsageError,
    )
    from scheduler.problems import Problem, Severity
    from scheduler.service.validation import Validation, plan_file, validate_file

_HOMES = {
    "Attachment": "scheduler.campaign.planner",
    "CampaignError": "scheduler.errors",
    "CampaignFile": "scheduler.campaign.model",
    "CampaignFileError": "scheduler.errors",
    "ConfigurationError": "scheduler.errors",
    "Delivery": "scheduler.campaign.planner",
    "LoadedCampaign": "scheduler.campaign.loader",
    "Plan": "scheduler.campaign.planner",
    "Problem": "scheduler.problems",
    "PublishError": "scheduler.errors",
    "Severity": "scheduler.problems",
    "StoreError": "scheduler.errors",
    "UsageError": "scheduler.errors",
    "Validation": "scheduler.service.validation",
    "json_schema": "scheduler.campaign.model",
    "load_file": "scheduler.campaign.loader",
    "plan": "scheduler.campaign.planner",
    "plan_file": "scheduler.service.validation",
    "validate_file": "scheduler.service.validation",
}

__all__ = [
    "Attachment",
    "CampaignError",
    "CampaignFile",
    "CampaignFileError",
    "ConfigurationError",
    "Delivery",
    "LoadedCampaign",
    "Plan",
    "Problem",
    "PublishError",
    "Severity",
    "StoreError",
    "UsageError",
    "Validation",
    "json_schema",
    "load_file",
    "plan",
    "plan_file",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'scheduler' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
