"""Fixtures of the reliability harness, and its figures at the end of the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_builders import write_campaign

from .harness import FIGURES, SIZE, peak_rss_bytes
from .stores import PostgresStore, SqliteStore


@pytest.fixture(scope="module")
def campaign_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per module, with the seed campaign and its image: hypothesis runs many cases
    in one test, so per-test folders would be shared anyway."""
    made = tmp_path_factory.mktemp("reliability")
    write_campaign(made, filename="seed.yaml")
    return made


@pytest.fixture(scope="module")
def seeded_sqlite(campaign_folder: Path) -> SqliteStore:
    return SqliteStore(campaign_folder, campaign_folder / "seed.yaml")


@pytest.fixture(scope="module")
def seeded_postgres(campaign_folder: Path, postgres_server: str) -> Iterator[PostgresStore]:
    yield PostgresStore(postgres_server, campaign_folder / "seed.yaml")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section(f"reliability figures ({SIZE} run)")
    for scenario, counts in sorted(FIGURES.items()):
        shown = ", ".join(f"{name}: {number:,}" for name, number in sorted(counts.items()))
        terminalreporter.line(f"{scenario}: {shown}")
    terminalreporter.line(f"peak memory of the test process: {peak_rss_bytes() / 2**20:,.0f} MiB")
