"""The registry, the dry-run adapter, and the direction of imports."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters import registry
from adapters.base import AdapterSettings, MediaItem, OutgoingPart
from adapters.capabilities import CAPABILITIES, Platform
from adapters.dryrun import DryRunAdapter
from adapters.errors import ContentRejected
from scheduler.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("platform", list(Platform))
def test_built_in_adapters(platform: Platform) -> None:
    cls = registry.adapter_class(platform)
    assert cls.capabilities is CAPABILITIES[platform]
    assert cls.__module__ == f"adapters.{platform.value}"
    assert registry.adapter_class(platform, dry_run=True).capabilities is CAPABILITIES[platform]


def test_unknown_platform() -> None:
    with pytest.raises(ConfigurationError, match="no adapter for platform 'myspace'"):
        registry.adapter_class("myspace")


def test_missing_credentials_are_named_not_shown() -> None:
    with pytest.raises(
        ConfigurationError, match="missing credentials consumer_key, consumer_secret"
    ):
        registry.create(
            "x",
            settings=AdapterSettings(handle="@a"),
            credentials={},
            base_url="http://127.0.0.1:9",
        )


def _plugin(tmp_path: Path, *entries: str) -> Path:
    (tmp_path / "plugin_adapters.py").write_text(
        "from adapters.dryrun import dry_run_class\nfrom adapters.capabilities import Platform\n"
        "Threads = dry_run_class(Platform.MASTODON)\n"
    )
    info = tmp_path / "plugin_adapters-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-adapters\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[campaign.adapters]\n" + "\n".join(entries) + "\n")
    return tmp_path


def _run(path: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )


def test_third_party_adapters_come_from_entry_points(tmp_path: Path) -> None:
    path = _plugin(tmp_path, "threads = plugin_adapters:Threads")
    result = _run(
        path,
        "from adapters import registry\n"
        "print(registry.names(), registry.adapter_class('threads').__name__)",
    )
    assert (
        result.stdout.strip() == "['bluesky', 'mastodon', 'threads', 'x'] DryRunMastodonAdapter"
    ), result.stderr


def test_a_name_given_twice_is_refused(tmp_path: Path) -> None:
    path = _plugin(tmp_path, "x = plugin_adapters:Threads")
    result = _run(path, "from adapters import registry; registry.names()")
    assert "adapter 'x' is registered twice" in result.stderr


def test_dry_run_records_what_would_be_sent_in_the_same_shape() -> None:
    adapter = registry.create(
        "bluesky", settings=AdapterSettings(handle="@a.bsky.social"), credentials={}, dry_run=True
    )
    assert isinstance(adapter, DryRunAdapter)
    part = OutgoingPart("Hello", "key-1", media=(MediaItem("image/png", "alt", data=b"png"),))
    published = adapter.publish(part)
    assert published.remote_id == "dry-run:key-1"
    assert published.url == "https://bsky.app/profile/a.bsky.social/post/dry-run:key-1"
    assert adapter.sent == [(part, published)]
    with pytest.raises(ContentRejected):
        adapter.publish(OutgoingPart("x" * 301, "key-2"))


def test_loading_the_core_and_the_registry_imports_no_sdk() -> None:
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for folder in ("scheduler",)
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts  # alembic scripts, run by alembic only
    )
    modules += ["adapters", "adapters.registry", "adapters.dryrun", "adapters.secrets"]
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(','.join(m for m in ('tweepy', 'mastodon', 'atproto') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""


def test_adapters_never_import_the_store() -> None:
    for path in (ROOT / "adapters").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [n for n in names if n.startswith("scheduler.store")], path.name
