"""Campaign scheduler: plan, check, preview and send coordinated social-media campaigns.

The path of a post, in one read: ``scheduler.cli`` -> ``scheduler.service`` ->
``scheduler.loader`` (file -> typed model) -> ``scheduler.checks`` (rules) ->
``scheduler.planner`` (model -> deliveries) -> ``scheduler.preview`` (deliveries -> what people
read). The store, dispatcher and adapters join this path in later layers.
"""

from scheduler.errors import (
    CampaignError,
    CampaignFileError,
    ConfigurationError,
    PublishError,
    StoreError,
    UsageError,
)
from scheduler.loader import LoadedCampaign, load_file
from scheduler.model import CampaignFile, json_schema
from scheduler.planner import Attachment, Delivery, Plan, plan
from scheduler.problems import Problem, Severity
from scheduler.service import Validation, plan_file, validate_file

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
