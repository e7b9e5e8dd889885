"""The public names of each package are exactly what its ``__all__`` lists (httpx style)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["scheduler", "scheduler.store", "adapters"]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_every_public_name(package: str) -> None:
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(package + ".")
    }
    # Data such as CAPABILITIES has no __module__; __all__ may list it on top of these.
    assert public <= set(module.__all__), public - set(module.__all__)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    assert list(module.__all__) == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_core_never_imports_a_platform_sdk() -> None:
    """Planning and previewing must work without tweepy, Mastodon.py or atproto loaded."""
    code = (
        "import sys, scheduler, scheduler.cli, scheduler.store, scheduler.views.preview.csv_json\n"
        "import adapters\n"
        "sdks = [m for m in ('tweepy', 'mastodon', 'atproto') if m in sys.modules]\n"
        "print(','.join(sdks))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
