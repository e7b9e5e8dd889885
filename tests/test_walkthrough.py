"""What a new comms officer met on a walk-through of every command (issue 10), at the command
line: the ids `status` prints work in `settle`, sentences are whole when piped, no option is
named that does not exist, a second cancel says so, a retraction asks with both numbers, the
database is named as a path, `check` says which `campaign auth` to run, progress only on a
terminal.

Terminal widths are set explicitly (``COLUMNS``), so no test depends on the terminal that runs
it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from campaign_builders import embassy, post, write_campaign
from click.testing import CliRunner, Result
from sqlalchemy import update

from scheduler.campaign.timing import describe_span, missed_message
from scheduler.cli import EXIT_USAGE, main
from scheduler.store.database import open_database
from scheduler.store.schema import Delivery

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = "orange-2026"
LONG_ID = "d01-launch/be-washington/mastodon/1"
CLI = [sys.executable, "-c", "from scheduler.cli import main; main(prog_name='campaign')"]


def run(database: Path, *args: str, input: str | None = None, columns: int = 100) -> Result:
    env = {"CAMPAIGN_DATABASE": str(database), "CAMPAIGN_USER": "ines", "COLUMNS": str(columns)}
    return CliRunner().invoke(main, list(args), env=env, input=input, prog_name="campaign")


def spawn(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``campaign`` in a process of its own, its output piped (not a terminal)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "CAMPAIGN_USER": "ines", **env}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def _washington() -> list[dict[str, object]]:
    return [
        embassy("be-washington", "America/New_York", platforms=("x", "mastodon")),
        embassy("be-tokyo", "Asia/Tokyo", ["ja", "en"]),
    ]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A campaign synced from the command line: one post, d01-launch, on five accounts."""
    path = tmp_path / "campaign.db"
    campaign = write_campaign(tmp_path, posts=[post("d01-launch")], embassies=_washington())
    result = run(path, "sync", str(campaign))
    assert result.exit_code == 0, result.output
    return path


def _set_state(path: Path, key: str, state: str, message: str | None = None) -> None:
    database = open_database(str(path))
    try:
        with database.transaction() as session:
            moved = session.execute(
                update(Delivery)
                .where(Delivery.key == key)
                .values(state=state, error_class="ContentRejected", error_message=message)
            )
            assert moved.rowcount == 1, key  # type: ignore[attr-defined]
    finally:
        database.close()


# --- item 4: settle takes what status prints; status never cuts an id ---------------------------


def test_settle_takes_the_delivery_id_that_status_prints(database: Path) -> None:
    why = "the instance refused the post: " + "its moderators are reviewing the account " * 3
    _set_state(database, f"{CAMPAIGN}/{LONG_ID}", "needs_review", why)
    status = run(database, "status", columns=100)
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    tables = [line for line in lines if any(edge in line for edge in "│┃━─")]
    assert max(map(len, tables)) <= 100  # the tables fit, as documented (sentences never wrap)
    assert any(LONG_ID in line for line in lines), status.output  # whole, on one line
    settled = run(database, "settle", LONG_ID, "--posted", "https://mastodon.example/@b/1")
    assert settled.exit_code == 0, settled.output
    assert f"{CAMPAIGN}/{LONG_ID}: sent" in settled.output
    # The whole key, as report and --json show it, still works.
    again = run(database, "settle", f"{CAMPAIGN}/{LONG_ID}", "--give-up")
    assert again.exit_code == EXIT_USAGE and "is sent" in again.output


def test_a_terminal_too_narrow_for_the_table_lists_whole_ids(database: Path) -> None:
    _set_state(database, f"{CAMPAIGN}/{LONG_ID}", "failed", "the instance refused the post")
    status = run(database, "status", columns=60)
    assert status.exit_code == 0, status.output
    assert f"  {LONG_ID}" in status.output.splitlines()
    assert "    2026-11-25 09:00 America/New_York: ContentRejected: the instance refused" in (
        status.output
    )


def test_an_id_in_two_campaigns_lists_both(tmp_path: Path, database: Path) -> None:
    other = write_campaign(
        tmp_path / "other",
        posts=[post("d01-launch")],
        embassies=_washington(),
        id="other-2026",
    )
    assert run(database, "sync", str(other)).exit_code == 0
    result = run(database, "settle", LONG_ID, "--retry")
    assert result.exit_code == EXIT_USAGE
    assert (
        f"{LONG_ID} is in several campaigns: {CAMPAIGN}/{LONG_ID}, other-2026/{LONG_ID}; "
        "give the whole key"
    ) in result.output
    unknown = run(database, "settle", "d01-launch/be-nowhere/x/1", "--retry")
    assert unknown.exit_code == EXIT_USAGE and "no delivery d01-launch/be-nowhere/x/1" in (
        unknown.output
    )


# --- item 6: no hard wrapping when the output is not a terminal --------------------------------


def test_sentences_are_whole_when_piped(tmp_path: Path) -> None:
    folder = tmp_path / ("a-folder-with-a-long-name-" * 6)
    campaign = write_campaign(folder, posts=[post("launch")], name="A campaign " + "x" * 150)
    env = {"COLUMNS": "60", "CAMPAIGN_SECRETS_FILE": str(tmp_path / "none.toml")}
    checked = spawn("check", str(campaign), cwd=tmp_path, **env)
    assert checked.returncode == 1  # no credentials anywhere
    summary = f"{campaign}: 7 accounts, 7 with problems; 0 media files, 0 with problems"
    assert summary in checked.stdout.splitlines(), checked.stdout
    previewed = spawn("preview", str(campaign), cwd=tmp_path, **env)
    assert previewed.returncode == 0, previewed.stderr
    heading = previewed.stdout.splitlines()[0]
    assert heading.startswith("A campaign xxx") and heading.endswith("nothing is sent")


# --- item 15: no option is suggested that the command lacks ------------------------------------


def test_queue_add_shows_its_notices_rather_than_naming_verbose(database: Path) -> None:
    result = run(database, "queue", "add", "--text", "en={embassy} stands with survivors.")
    assert result.exit_code == 0, result.output
    assert "--verbose" not in result.output
    assert "be-tokyo will post in 'en'" in result.output


# --- item 17: the retraction's question counts what it deletes and what it cancels -------------


def test_retract_asks_with_both_numbers(database: Path) -> None:
    result = run(database, "retract", "d01-launch", "--reason", "wrong helpline", input="n\n")
    assert result.exit_code == 1  # not confirmed: aborted, nothing done
    assert (
        "No copy of d01-launch is on a platform. Delete nothing and cancel the 5 copies not "
        "sent yet?"
    ) in result.output
    _set_state(database, f"{CAMPAIGN}/d01-launch/be-tokyo/x/1", "sent")
    two = run(database, "retract", "d01-launch", "--reason", "wrong helpline", input="n\n")
    assert "Delete this 1 copy of d01-launch and cancel the 4 copies not sent yet?" in two.output


# --- item 18: cancelling twice ------------------------------------------------------------------


def test_a_second_cancel_says_already_cancelled(database: Path) -> None:
    first = run(database, "queue", "cancel", "d01-launch", "--reason", "duplicate")
    assert first.exit_code == 0 and "cancelled post d01-launch" in first.output
    second = run(database, "queue", "cancel", "d01-launch", "--reason", "duplicate")
    assert second.exit_code == 0, second.output
    assert "post d01-launch was already cancelled (" in second.output
    assert "nothing changed" in second.output
    retracted = run(database, "retract", "d01-launch", "--reason", "duplicate")
    assert retracted.exit_code == 0, retracted.output
    assert "nothing to retract" in retracted.output


# --- item 19: what comms officers read ------------------------------------------------------------


def test_the_database_is_named_by_its_path(database: Path) -> None:
    status = run(database, "status")
    assert f"in {database}, as of" in " ".join(status.output.split())
    report = run(database, "report", "-f", "json")
    assert json.loads(report.stdout)["database"] == str(database)
    page = run(database, "report", "-f", "html", "-o", str(database.parent / "r.html"))
    assert page.exit_code == 0
    html = (database.parent / "r.html").read_text(encoding="utf-8")
    for shown in (status.output, report.output, html):
        assert "sqlite+pysqlite" not in shown and "sqlite:" not in shown


def test_a_server_url_is_shown_without_driver_or_password() -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from scheduler.store.database import Database

    engine = create_engine("postgresql+psycopg://ines:s3cret@db.example:5432/campaign")
    try:
        shown = Database(engine, sessionmaker(engine)).name
    finally:
        engine.dispose()
    assert shown == "postgresql://ines@db.example:5432/campaign"


def test_check_says_which_auth_command_stores_missing_credentials(tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, posts=[post("launch")])
    env = {"CAMPAIGN_SECRETS_FILE": str(tmp_path / "none.toml")}
    result = spawn("check", str(campaign), "--json", cwd=tmp_path, **env)
    assert result.returncode == 1
    accounts = json.loads(result.stdout)["accounts"]
    tokyo_x = next(a for a in accounts if (a["embassy"], a["platform"]) == ("be-tokyo", "x"))
    assert tokyo_x["problems"][0].endswith(
        f"; store them with `campaign auth x --account be-tokyo {campaign}`"
    )


def test_auth_without_a_terminal_shows_no_python_warning(tmp_path: Path) -> None:
    process = subprocess.run(
        [
            *CLI,
            "auth",
            "bluesky",
            "--credentials",
            "be-test",
            "--handle",
            "belgiumtest.bsky.social",
            "--secrets-file",
            str(tmp_path / "secrets.toml"),
        ],
        input="abcd-efgh-ijkl-mnop\n",
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CAMPAIGN_BLUESKY_URL": "http://127.0.0.1:9"},
        timeout=120,
        check=False,
    )
    assert "GetPassWarning" not in process.stderr, process.stderr
    assert "Traceback" not in process.stderr
    assert process.returncode == 1  # nothing listens there: refused, with a message
    assert "app password:" in process.stderr


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (42, "42 s"), (59, "59 s"), (60, "1 min"), (20 * 60, "20 min"), (9000, "2.5 h")],
)
def test_spans_under_a_minute_are_in_seconds(seconds: int, shown: str) -> None:
    assert describe_span(dt.timedelta(seconds=seconds)) == shown


def test_one_wording_for_missed() -> None:
    """The daemon (too late when it came to send) and the sweep (never sent) say it alike."""
    late, grace = dt.timedelta(hours=169), dt.timedelta(seconds=0)
    assert missed_message(late, grace) == (
        "not sent in time: 169.0 h late, beyond the grace of 0 s"
    )


# --- item 23: progress on a terminal, nothing when piped ----------------------------------------


def test_sync_shows_no_progress_when_piped(tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, posts=[post("launch")])
    result = spawn("sync", str(campaign), cwd=tmp_path, CAMPAIGN_DATABASE=str(tmp_path / "c.db"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1].startswith(f"{CAMPAIGN}: changed: 7 added")


def test_sync_shows_its_steps_on_a_terminal(tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path, posts=[post("launch")])
    controller, terminal = pty.openpty()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CAMPAIGN_DATABASE": str(tmp_path / "c.db"),
        "CAMPAIGN_USER": "ines",
        "TERM": "xterm",
        "COLUMNS": "100",
    }
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [*CLI, "sync", str(campaign)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
        cwd=tmp_path,
    )
    os.close(terminal)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
        stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    shown = seen.decode("utf-8", "replace")
    assert "sync: checking" in shown, shown
    assert "sync:" not in stdout.decode()  # the steps go to the terminal, never into the output
