"""Commands that must not do the wrong thing quietly (issue 10): the kill switch on a target that
does not exist, a mistyped --database, the database's own errors, and past-due work."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from campaign_builders import post, write_campaign
from click.testing import CliRunner, Result
from sqlalchemy import func, make_url, select, text

from scheduler.cli import EXIT_USAGE, main
from scheduler.errors import DatabaseUnavailable
from scheduler.store.database import open_database
from scheduler.store.schema import Pause

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, database: str | None = None, stdin: str | None = None) -> Result:
    env = {"CAMPAIGN_USER": "ines", "CAMPAIGN_DATABASE": database} if database else {}
    return CliRunner().invoke(
        main, list(args), env={"CAMPAIGN_USER": "ines", **env}, input=stdin, catch_exceptions=False
    )


def one_clean_line(result: Result) -> str:
    """The error, which must be one line with no traceback, SQL or parameters."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    for leak in ("Traceback", "INSERT", "UPDATE", "SELECT", "[parameters", "sqlalche.me"):
        assert leak not in result.output, result.output
    return lines[0]


@pytest.fixture
def synced(tmp_path: Path, database_url: str) -> Iterator[str]:
    """A database holding the builders' campaign: orange-2026, be-tokyo, be-newyork, be-paris,
    post launch."""
    result = run("sync", str(write_campaign(tmp_path / "c")), database=database_url)
    assert result.exit_code == 0, result.output
    yield database_url


def pauses(database_url: str) -> int:
    opened = open_database(database_url)
    try:
        with opened.snapshot() as session:
            return session.scalar(select(func.count()).select_from(Pause)) or 0
    finally:
        opened.close()


# --- 1. the kill switch refuses targets that do not exist ---------------------------------------


@pytest.mark.parametrize(
    ("option", "typo", "hint"),
    [
        ("--embassy", "be-tokio", "be-tokyo"),
        ("--post", "lanch", "launch"),
        ("--campaign", "orange-2025", "orange-2026"),
    ],
)
def test_pause_refuses_a_mistyped_target_and_pauses_nothing(
    synced: str, option: str, typo: str, hint: str
) -> None:
    result = run("pause", option, typo, "--reason", "test", database=synced)
    assert result.exit_code == EXIT_USAGE, result.output
    line = one_clean_line(result)
    assert f"{option} {typo}: no such" in line and f"did you mean '{hint}'?" in line
    assert "paused" not in line.split(";")[0]
    assert pauses(synced) == 0


def test_pause_lists_the_valid_ids_when_nothing_is_close(synced: str) -> None:
    result = run("pause", "--embassy", "be-nowhere", "--reason", "test", database=synced)
    assert result.exit_code == EXIT_USAGE
    assert "expected one of: be-newyork, be-paris, be-tokyo" in one_clean_line(result)
    assert pauses(synced) == 0


def test_an_embassy_of_another_campaign_is_not_in_scope(synced: str) -> None:
    result = run(
        "pause", "--campaign", "orange-2026", "--post", "nope", "--reason", "x", database=synced
    )
    assert result.exit_code == EXIT_USAGE
    assert "--post nope: no such post in campaign orange-2026" in result.output


def test_resume_refuses_a_mistyped_target(synced: str) -> None:
    assert run("pause", "--embassy", "be-tokyo", "--reason", "t", database=synced).exit_code == 0
    result = run("resume", "--embassy", "be-tokio", database=synced)
    assert result.exit_code == EXIT_USAGE
    assert "did you mean 'be-tokyo'?" in one_clean_line(result)
    lifted = run("resume", "--embassy", "be-tokyo", database=synced)
    assert lifted.exit_code == 0 and "1 pause(s) lifted" in lifted.output


# --- 2. a mistyped --database creates nothing ---------------------------------------------------

COMMANDS_THAT_NEVER_CREATE = [
    ["status"],
    ["status", "--json"],
    ["report", "-f", "csv"],
    ["audit"],
    ["queue", "list"],
    ["queue", "add", "--text", "en=Hello"],
    ["queue", "cancel", "launch", "--reason", "x"],
    ["approve", "launch"],
    ["pause", "--reason", "x"],
    ["resume"],
    ["settle", "orange-2026/launch/be-tokyo/x/1", "--give-up"],
    ["retract", "launch", "--reason", "x", "--yes"],
    ["db", "revision"],
]


@pytest.mark.parametrize("args", COMMANDS_THAT_NEVER_CREATE, ids=" ".join)
def test_a_missing_database_is_refused_and_not_created(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    result = run(*args, "--database", str(missing))
    assert result.exit_code == EXIT_USAGE, result.output
    assert one_clean_line(result).startswith(f"error: no such database: {missing}")
    assert not missing.parent.exists()


def test_run_refuses_a_missing_database(tmp_path: Path) -> None:
    """Through a process of its own: before the fix, `run` made the database and kept going."""
    missing = tmp_path / "nowhere" / "x.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CAMPAIGN_USER": "ines"}
    env.pop("CAMPAIGN_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", "from scheduler.cli import main; main()", "run", "--database",
         str(missing)],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE, done.stderr
    assert f"no such database: {missing}" in done.stderr and "Traceback" not in done.stderr
    assert not missing.parent.exists()


def test_sync_of_an_invalid_file_creates_no_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    path = write_campaign(tmp_path / "c", posts=[post("launch", day=40)])
    result = run("sync", str(path), "--database", str(missing))
    assert result.exit_code == 1
    assert not missing.parent.exists()


def test_a_dry_run_sync_of_a_missing_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.db"
    result = run(
        "sync", str(write_campaign(tmp_path / "c")), "--dry-run", "--database", str(missing)
    )
    assert result.exit_code == 0, result.output
    assert f"no such database: {missing}" in result.output
    assert "would change: 7 added" in result.output
    assert not missing.parent.exists()
    created = run("sync", str(write_campaign(tmp_path / "c")), "--database", str(missing))
    assert created.exit_code == 0 and missing.is_file()


def test_a_postgresql_database_that_does_not_exist_is_one_line(postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + "/campaign_no_such_database"
    result = run("status", "--database", url)
    assert result.exit_code == EXIT_USAGE
    assert "no such database: postgresql://" in one_clean_line(result)


# --- 3. the database's errors are one line naming the database, no SQL, no data -----------------

SECRET_REASON = "the-campaign-data-7f3a"
PERMISSIONS = "check the file's and its folder's permissions"


def _writes(tmp_path: Path) -> list[list[str]]:
    return [
        ["pause", "--reason", SECRET_REASON],
        ["approve", "launch", "--as", "marc"],
        ["sync", str(write_campaign(tmp_path / "c2", posts=[post("launch"), post("day2", day=2)]))],
        ["queue", "add", "--text", f"en={SECRET_REASON}", "--at", "2026-12-09T10:00Z"],
    ]


@pytest.fixture
def sqlite_synced(tmp_path: Path) -> Path:
    target = tmp_path / "db" / "campaign.db"
    result = run("sync", str(write_campaign(tmp_path / "c")), "--database", str(target))
    assert result.exit_code == 0, result.output
    return target


def test_a_read_only_database_is_one_line(tmp_path: Path, sqlite_synced: Path) -> None:
    """Read-only through SQLite's own `mode=ro` URI: chmod does not stop root, who may run the
    tests; the next test uses chmod where it does stop writes."""
    url = f"sqlite+pysqlite:///file:{sqlite_synced}?mode=ro&uri=true"
    for args in _writes(tmp_path):
        result = run(*args, "--database", url)
        assert result.exit_code == 1, (args, result.output)
        line = one_clean_line(result)
        assert line == f"error: database {sqlite_synced}: it is read-only: " + PERMISSIONS
        assert SECRET_REASON not in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a file whatever its mode")
def test_a_read_only_file_and_folder_are_one_line(tmp_path: Path, sqlite_synced: Path) -> None:
    sqlite_synced.chmod(0o444)
    sqlite_synced.parent.chmod(0o555)
    try:
        for args in _writes(tmp_path):
            result = run(*args, "--database", str(sqlite_synced))
            assert result.exit_code == 1, (args, result.output)
            assert "read-only" in one_clean_line(result) or "cannot be opened" in result.output
    finally:
        sqlite_synced.parent.chmod(0o755)
        sqlite_synced.chmod(0o644)


def test_a_locked_database_is_one_line(tmp_path: Path, sqlite_synced: Path) -> None:
    holder = sqlite3.connect(sqlite_synced, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program's write transaction, held
    try:
        url = f"sqlite+pysqlite:///{sqlite_synced}?timeout=0.2"
        result = run("pause", "--reason", SECRET_REASON, "--database", url)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    line = one_clean_line(result)
    assert line.startswith(f"error: database {sqlite_synced}: it is locked by another program")
    assert pauses(str(sqlite_synced)) == 0


def test_a_server_that_refuses_is_one_line_without_the_password() -> None:
    with socket_closed() as port:
        url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{port}/campaign"
        result = run("pause", "--reason", SECRET_REASON, "--database", url)
    assert result.exit_code == 1
    line = one_clean_line(result)
    assert f"postgresql://postgres@127.0.0.1:{port}/campaign" in line
    assert "refused" in line.lower() and "hunter2" not in result.output


def test_a_schema_newer_than_the_program_is_one_line(database_url: str, synced: str) -> None:
    opened = open_database(database_url)
    with opened.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'ffff0000ffff'"))
    opened.close()
    for args in (["status"], ["pause", "--reason", "x"], ["queue", "list"]):
        result = run(*args, database=database_url)
        assert result.exit_code == 1
        assert "newer than this version of campaign-scheduler" in one_clean_line(result)


@contextmanager
def socket_closed() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    yield port


# --- 5. past-due work is said before it happens -------------------------------------------------
# The builders' post 'launch' is due on 2026-11-25 at 09:00 local: 00:00 UTC in Tokyo (3 copies),
# 08:00 UTC in Paris (2), 14:00 UTC in New York (2). At 08:30 UTC with a grace of 1 h, Paris is
# late within the grace and Tokyo beyond it.

CAMPAIGN_NOW = "2026-11-25T08:30:00+00:00"
PAST_DUE = (
    "5 deliveries are already past due: 2 will go out late within the grace (up to 60 min), "
    "3 will be missed (more than 60 min late)"
)


@pytest.fixture
def late_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A campaign file and the database path, with campaign time at CAMPAIGN_NOW."""
    clock = tmp_path / "clock"
    clock.write_text(CAMPAIGN_NOW + "\n", encoding="utf-8")
    monkeypatch.setenv("CAMPAIGN_CLOCK_FILE", str(clock))
    late = {"late": {"grace": "1h"}}
    path = write_campaign(tmp_path / "c", policies={**late, "approval": {"required": True}})
    return path, tmp_path / "campaign.db"


def test_sync_says_which_deliveries_are_past_due(late_world: tuple[Path, Path]) -> None:
    path, target = late_world
    expected = (
        "5 deliveries are already past due: 2 will go out late within the grace (up to 60 min; "
        "2 of them only if approved in time), 3 will be missed (more than 60 min late)"
    )
    dry = run("sync", str(path), "--dry-run", "--database", str(target))
    assert dry.exit_code == 0 and expected in dry.output, dry.output
    result = run("sync", str(path), "--database", str(target))
    assert result.exit_code == 0 and expected in result.output, result.output
    document = run("sync", str(path), "--json", "--database", str(target)).output
    assert '"past_due": {\n    "late": 2,\n    "missed": 3,\n    "grace_seconds": 3600' in document


def test_approve_says_which_deliveries_are_past_due(late_world: tuple[Path, Path]) -> None:
    path, target = late_world
    assert run("sync", str(path), "--database", str(target)).exit_code == 0
    result = run("approve", "launch", "--as", "marc", "--database", str(target))
    assert result.exit_code == 0, result.output
    assert "7 deliveries scheduled" in result.output
    assert PAST_DUE in result.output


def test_the_warning_follows_the_dispatchers_rule(late_world: tuple[Path, Path]) -> None:
    """What sync announces is what housekeeping then does, at the same instant."""
    import collections
    import datetime as dt

    from scheduler.daemon.accounts import Accounts
    from scheduler.daemon.clock import SteppedClock
    from scheduler.daemon.housekeeping import Housekeeper
    from scheduler.settings import Settings

    path, target = late_world
    assert PAST_DUE.split(":")[0] in run("sync", str(path), "--database", str(target)).output
    clock = SteppedClock(dt.datetime.fromisoformat(CAMPAIGN_NOW))
    opened = open_database(str(target), create=False)
    try:
        accounts = Accounts(Settings(), dry_run=True, clock=clock)
        keeper = Housekeeper(opened, clock, accounts, collections.Counter(), "test")
        assert keeper.sweep_missed() == 3
    finally:
        opened.close()


def test_queue_add_refuses_a_time_beyond_the_grace(late_world: tuple[Path, Path]) -> None:
    path, target = late_world
    assert run("sync", str(path), "--database", str(target)).exit_code == 0
    args = ["queue", "add", "--text", "en={embassy} is with you", "--id", "extra"]
    result = run(*args, "--at", "2026-11-25T07:00Z", "--database", str(target))
    assert result.exit_code == EXIT_USAGE, result.output
    assert one_clean_line(result) == (
        "error: --at: 7 copies would be due more than the grace (60 min) before now "
        "(2026-11-25 08:30 UTC) and never go out (missed); give a later time, or leave out "
        "--at for the next free slots"
    )
    listing = run("queue", "list", "--database", str(target))
    assert "extra" not in listing.output
    local = run(*args, "--at", "2026-11-25 09:00", "--database", str(target))
    assert local.exit_code == EXIT_USAGE and "3 copies would be due" in local.output


def test_queue_add_warns_of_a_time_within_the_grace(late_world: tuple[Path, Path]) -> None:
    path, target = late_world
    assert run("sync", str(path), "--database", str(target)).exit_code == 0
    args = ["queue", "add", "--text", "en={embassy} is with you", "--id", "extra"]
    result = run(*args, "--at", "2026-11-25T08:00Z", "--database", str(target))
    assert result.exit_code == 0, result.output
    assert (
        "7 deliveries are already past due: 7 will go out late within the grace (up to 60 min; "
        "7 of them only if approved in time)"
    ) in result.output
    assert "queued post extra" in result.output


def test_a_full_database_is_one_line(sqlite_synced: Path) -> None:
    """SQLite's own limit on the file's pages (max_page_count) gives the error of a full disk,
    SQLITE_FULL, on a real write: no disk has to be filled."""
    opened = open_database(str(sqlite_synced), create=False)
    try:
        with pytest.raises(DatabaseUnavailable) as raised, opened.transaction() as session:
            pages = session.execute(text("PRAGMA page_count")).scalar_one()
            session.execute(text(f"PRAGMA max_page_count = {pages}"))
            session.execute(
                text("UPDATE campaigns SET name = :name"), {"name": SECRET_REASON * 100_000}
            )
    finally:
        opened.close()
    message = str(raised.value)
    assert message == f"database {sqlite_synced}: the disk is full"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_connection_lost_mid_transaction_is_one_line(postgres_server: str) -> None:
    """The server ends the session (pg_terminate_backend, as a restart or a failover does)."""
    opened = open_database(postgres_server, check_schema=False)  # whatever others left there
    try:
        with pytest.raises(DatabaseUnavailable) as raised, opened.transaction() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(libpq(postgres_server), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            session.execute(text("SELECT :secret"), {"secret": SECRET_REASON})
    finally:
        opened.close()
    message = str(raised.value)
    assert "\n" not in message and SECRET_REASON not in message and "SELECT" not in message
    assert message.startswith("database postgresql://postgres@127.0.0.1")
    assert "connection" in message, message


def test_queue_edit_refuses_a_time_beyond_the_grace(late_world: tuple[Path, Path]) -> None:
    path, target = late_world
    assert run("sync", str(path), "--database", str(target)).exit_code == 0
    add = ["queue", "add", "--text", "en={embassy} is with you", "--id", "extra"]
    assert run(*add, "--at", "2026-11-26T10:00Z", "--database", str(target)).exit_code == 0
    edit = ["queue", "edit", "extra", "--at", "2026-11-24T10:00Z", "--database", str(target)]
    result = run(*edit)
    assert result.exit_code == EXIT_USAGE
    assert "7 copies would be due more than the grace (60 min)" in result.output
    listing = run("queue", "list", "--json", "--database", str(target)).output
    assert '"version": 1' in listing and "2026-11-26" in listing
