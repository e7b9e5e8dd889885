"""deploy/: the example settings parse and name every key; the systemd unit has what the daemon
relies on (notify, watchdog, reload, a stop timeout above the shutdown grace)."""

from __future__ import annotations

import configparser
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from adapters.capabilities import Platform
from scheduler.daemon.notify import check_alert_urls
from scheduler.settings import AlertSettings, PlatformSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "campaign.toml.example"
UNIT = ROOT / "deploy" / "campaign.service"
OPERATIONS = ROOT / "docs" / "operations.md"


def _keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _keys(annotation, f"{prefix}{name}.")
        elif name == "platforms":
            for platform in Platform:
                yield from _keys(PlatformSettings, f"{prefix}{name}.{platform}.")
        else:
            yield prefix + name


def test_the_example_settings_parse() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.database == "/var/lib/campaign/campaign.db"
    assert settings.secrets_file == Path("/etc/campaign/secrets.toml")
    assert settings.daemon.health_port == 9464
    assert settings.alerts.urls_secret == "campaign-alerts"
    assert set(settings.platforms) == set(Platform)


def test_the_example_shows_the_defaults() -> None:
    example, defaults = load_settings(EXAMPLE), Settings()
    assert example.daemon.model_copy(update={"health_port": None}) == defaults.daemon
    assert example.alerts.digest == defaults.alerts.digest
    assert example.log_format == defaults.log_format
    for platform in Platform:
        assert example.platform(platform) == defaults.platform(platform)


@pytest.mark.parametrize("key", list(_keys(Settings)))
def test_the_example_names_every_key(key: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    *tables, name = key.split(".")
    section = text
    if tables:
        header = text.index(f"[{'.'.join(tables)}]\n")
        following = text.find("\n[", header + 1)
        section = text[header : following if following > 0 else None]
    assert re.search(rf"^#? ?{name} = ", section, re.MULTILINE), f"{key} is not in {EXAMPLE.name}"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_the_unit_runs_the_daemon_under_notify_and_watchdog() -> None:
    service = _unit()["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["ExecStart"] == (
        "/opt/campaign/.venv/bin/campaign run --config /etc/campaign/campaign.toml"
    )
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "on-failure"
    assert service["User"] == "campaign"
    assert service["Environment"] == "CAMPAIGN_SECRETS_FILE=/etc/campaign/secrets.toml"
    assert int(service["WatchdogSec"]) == 60
    grace = Settings().daemon.shutdown_grace
    assert dt.timedelta(seconds=int(service["TimeoutStopSec"])) > grace


def test_the_unit_is_hardened_but_can_write_the_database() -> None:
    service = _unit()["Service"]
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    assert service["ProtectHome"] == "true"
    assert service["PrivateTmp"] == "true"
    writable = service["ReadWritePaths"].split()
    assert "/var/lib/campaign" in writable
    database = load_settings(EXAMPLE).database
    assert database is not None
    assert str(Path(database).parent) in writable
    assert "AF_UNIX" in service["RestrictAddressFamilies"], "sd_notify needs a unix socket"


def test_operations_doc_covers_the_unit_and_every_signal() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    for needed in ("SIGTERM", "SIGINT", "SIGHUP", "/healthz", "/metrics", "WATCHDOG", "pg_dump"):
        assert needed in text, needed
    assert "deploy/campaign.service" in text
    assert "deploy/campaign.toml.example" in text


def test_the_alert_urls_shown_in_operations_doc_are_usable(tmp_path: Path) -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    [block] = re.findall(r"^```toml\n(.*?)^```", text, re.M | re.S)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(block, encoding="utf-8")
    secrets.chmod(0o600)
    settings = Settings(
        secrets_file=secrets,
        alerts=AlertSettings(urls_secret=load_settings(EXAMPLE).alerts.urls_secret),
    )
    assert check_alert_urls(settings) == 3
