"""The committed campaign.schema.json is what `campaign schema` prints today."""

from __future__ import annotations

import json
from pathlib import Path

from scheduler.campaign.model import json_schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "campaign.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "run: campaign schema -o campaign.schema.json"
