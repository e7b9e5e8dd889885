"""The README's tour, run top to bottom as a new user would (issue 10, "Done when").

The commands are read from the README itself: every line of the ``sh`` blocks under "A short
tour". Each runs as its own process, in a fresh folder holding what a clone holds
(``campaigns.yaml`` and ``media/``), with the default database (``campaign.db`` in that folder),
against the fake platforms (tests/fakes) wherever a command talks to a platform: ``campaign
auth`` reads the code off the fake's authorize page as a person would, ``check`` verifies every
account on the fakes. No command may print a traceback; each exits as documented; and those that
say they change nothing (validate, preview, schema, check, sync --dry-run, run --dry-run,
status, report) leave the database's content exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from daemon_harness import Platforms
from keyboard import mastodon_code

from adapters.secrets import env_name
from scheduler.service.validation import validate_file
from scheduler.store.schema import Account

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CLI = [sys.executable, "-c", "from scheduler.cli import main; main(prog_name='campaign')"]
DEADLINE = 600.0
"""Seconds any one command may take: sync of the real campaign on a busy machine takes about a
minute; this only catches a hung command."""

READ_ONLY = {"validate", "preview", "schema", "check", "status", "report"}
"""Commands documented as changing nothing in the database (plus any --dry-run)."""


def tour_commands(readme: str) -> list[list[str]]:
    """The commands of the sh blocks under "A short tour", comments and blank lines dropped."""
    section = readme.split("\n## A short tour\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    commands = [shlex.split(line, comments=True) for block in blocks for line in block.splitlines()]
    return [command for command in commands if command]


def database_content(path: Path) -> str | None:
    """A digest of every schema entry and row (not of the file's bytes, which SQLite may rewrite
    on a read, e.g. a WAL checkpoint); None when there is no database."""
    if not path.exists():
        return None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    finally:
        connection.close()


@dataclass
class Step:
    command: list[str]
    code: int
    output: str


def test_the_tour_reads_the_readme() -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    assert [command[:2] for command in commands[:2]] == [
        ["campaign", "validate"],
        ["campaign", "preview"],
    ]
    assert all(command[0] == "campaign" for command in commands)
    assert {command[1] for command in commands} >= {"sync", "run", "status", "retract", "auth"}


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """What a fresh clone holds for the tour: the campaign file and its media."""
    folder = tmp_path / "clone"
    folder.mkdir()
    shutil.copy2(ROOT / "campaigns.yaml", folder / "campaigns.yaml")
    shutil.copytree(ROOT / "media", folder / "media")
    return folder


@pytest.fixture
def platforms(clone: Path) -> Iterator[Platforms]:
    """The fakes, with every account of the campaign enrolled, and logged in (in the fake's
    browser) as be-tokyo's Mastodon account, for `campaign auth`."""
    loaded = validate_file(clone / "campaigns.yaml").campaign
    assert loaded is not None
    with Platforms() as fakes:
        for embassy in loaded.spec.embassies:
            for platform, account in embassy.accounts.by_platform().items():
                row = Account(
                    platform=str(platform),
                    handle=account.handle,
                    credentials=account.credentials,
                )
                for field_name, value in fakes._credentials(row).items():
                    fakes.env[env_name(account.credentials, field_name)] = value
        tokyo = next(e for e in loaded.spec.embassies if e.id == "be-tokyo")
        assert tokyo.accounts.mastodon is not None
        fakes.mastodon.login_as(tokyo.accounts.mastodon.handle.lstrip("@").split("@")[0])
        yield fakes


def _environment(clone: Path, platforms: Platforms) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CAMPAIGN_") and key not in ("COLUMNS", "LINES")
    }
    return {
        **inherited,
        **platforms.env,
        "PYTHONPATH": str(ROOT),
        "HOME": str(clone.parent / "home"),  # no settings or secrets of the machine's user
        "CAMPAIGN_SECRETS_FILE": str(clone.parent / "home" / "secrets.toml"),
        "CAMPAIGN_USER": "ines",  # the author; `approve --as marc` is the second person
        "COLUMNS": "120",
    }


def _run(command: list[str], clone: Path, env: dict[str, str], stdin: str = "") -> Step:
    done = subprocess.run(
        [*CLI, *command[1:]],
        cwd=clone,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    return Step(command, done.returncode, done.stdout + done.stderr)


def _auth(command: list[str], clone: Path, env: dict[str, str], platforms: Platforms) -> Step:
    """`campaign auth mastodon`: when it shows the authorize URL, read the code off the fake's
    page, as a person in a browser would, and type it."""
    process = subprocess.Popen(
        [*CLI, *command[1:]],
        cwd=clone,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "/oauth/authorize?" in line:
            process.stdin.write(mastodon_code(platforms.mastodon)() + "\n")
            process.stdin.flush()
            break
    output, _ = process.communicate(timeout=DEADLINE)
    return Step(command, process.returncode, "".join(seen) + output)


def _run_daemon(command: list[str], clone: Path, env: dict[str, str]) -> Step:
    """`campaign run --dry-run` runs until stopped: once it says it is ready, SIGTERM, which
    the docs say stops it cleanly with exit 0 (waiting on its log, not on a span of time)."""
    log = clone.parent / "daemon.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*CLI, *command[1:]], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline and process.poll() is None:
                if "ready: worker" in log.read_text(encoding="utf-8", errors="replace"):
                    break
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return Step(command, code, log.read_text(encoding="utf-8", errors="replace"))


def _says_it_changes_nothing(command: list[str]) -> bool:
    return command[1] in READ_ONLY or "--dry-run" in command


@pytest.mark.slow
def test_the_readme_tour_runs_top_to_bottom(clone: Path, platforms: Platforms) -> None:
    env = _environment(clone, platforms)
    database = clone / "campaign.db"
    steps: list[Step] = []
    for command in tour_commands(README.read_text(encoding="utf-8")):
        before = database_content(database)
        if command[1] == "auth":
            step = _auth(command, clone, env, platforms)
        elif command[1] == "run":
            step = _run_daemon(command, clone, env)
        else:
            step = _run(command, clone, env, stdin="y\n" if command[1] == "retract" else "")
        steps.append(step)
        shown = shlex.join(command)
        assert "Traceback" not in step.output, f"{shown}:\n{step.output}"
        assert step.code == 0, f"{shown} exited {step.code}:\n{step.output}"
        if _says_it_changes_nothing(command):
            after = database_content(database)
            assert after == before, f"{shown} changed the database, though it says it does not"
    assert (clone / "preview.html").exists() and (clone / "report.html").exists()
    assert (clone / "campaign.schema.json").exists()
    assert [step.command[1] for step in steps][-1] == "retract"
