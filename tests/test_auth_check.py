"""`campaign auth` and `campaign check` through the CLI, against the fake platforms on 127.0.0.1.

The person at the keyboard is played by ``typed(...)``: each line is given to a prompt when the
prompt reads it, and a line may be a function, run at that moment, that opens the page the
command has just pointed to in the fake's "browser" and reads the PIN or code from it. Secrets
reach the commands through a temporary secrets file (``CAMPAIGN_SECRETS_FILE``) and the fakes
through the base URL overrides (``CAMPAIGN_X_API_URL``, ``CAMPAIGN_MASTODON_URL`` for every
instance, ``CAMPAIGN_BLUESKY_URL``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shlex
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from cli_fixtures import write_campaign_text
from click.testing import CliRunner, Result
from fake_fixtures import mastodon_adapter
from fakes import FakeBluesky, FakeMastodon, FakeX
from keyboard import mastodon_code, typed, x_pin

from adapters.base import AccountLimits, OutgoingPart
from adapters.capabilities import Platform
from adapters.errors import OutcomeUnknown
from adapters.mastodon import CLASSIC_SCOPES, OUT_OF_BAND, SCOPES
from adapters.secrets import env_name, read_secrets_file, save_credentials
from scheduler.campaign.loader import load_file
from scheduler.cli import main
from scheduler.service.preflight import (
    AccountRef,
    accounts_of,
    compare_limits,
    connection,
    same_handle,
)
from scheduler.service.validation import plan_file
from scheduler.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "campaigns.yaml"
CONSUMER = {"consumer_key": "consumer-key", "consumer_secret": "consumer-secret"}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "secrets.toml"
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(path))
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    return path


@pytest.fixture
def platforms(
    fake_x: FakeX,
    fake_mastodon: FakeMastodon,
    fake_bluesky: FakeBluesky,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[FakeX, FakeMastodon, FakeBluesky]:
    monkeypatch.setenv("CAMPAIGN_X_API_URL", fake_x.url)
    monkeypatch.setenv("CAMPAIGN_MASTODON_URL", fake_mastodon.url)
    monkeypatch.setenv("CAMPAIGN_BLUESKY_URL", fake_bluesky.url)
    return fake_x, fake_mastodon, fake_bluesky


def run(*args: str, input: Any = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def assert_absent(result: Result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.output
        assert secret not in result.stderr


# --- campaign auth ------------------------------------------------------------------------------


def test_auth_x_pin_flow_stores_a_private_secrets_file(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky],
    secrets_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    x = platforms[0]
    caplog.set_level(logging.DEBUG)
    result = run(
        "auth", "x", CAMPAIGN, "--account", "be-tokyo",
        input=typed("consumer-key", "consumer-secret", x_pin(x)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = read_secrets_file(secrets_file)["be-tokyo-x"]
    assert entry.keys() == {
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    }
    issued = x.tokens[entry["access_token"]]
    assert (issued.user.username, issued.secret) == ("BelgiumInJapan", entry["access_token_secret"])
    assert entry["access_token"] != x.token[0], "a new token, issued by the PIN flow"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700
    token = list(x.request_tokens)[-1] if x.request_tokens else None
    assert token is None, "the request token was used once and is gone"
    assert f"{x.url}/oauth/authorize?oauth_token=" in result.stderr
    assert "Verified: X account @BelgiumInJapan (Belgium in Japan)" in result.output
    assert_absent(result, "consumer-secret", entry["access_token"], entry["access_token_secret"])
    for secret in ("consumer-secret", entry["access_token"], entry["access_token_secret"]):
        assert secret not in caplog.text


def test_auth_x_reuses_the_apps_keys_and_asks_only_for_the_pin(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    x = platforms[0]
    save_credentials("shared-app", CONSUMER, file=secrets_file)
    x.login_as(x.add_user("BelgiumInUSA").username)
    result = run(
        "auth", "x", CAMPAIGN, "--account", "be-washington", "--consumer-from", "shared-app",
        input=typed(x_pin(x)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Using the app's consumer key and consumer secret of 'shared-app'" in result.stderr
    entry = read_secrets_file(secrets_file)["be-washington-x"]
    assert x.tokens[entry["access_token"]].user.username == "BelgiumInUSA"
    assert "shared-app" in read_secrets_file(secrets_file), "the other entry is kept"


def test_auth_refuses_credentials_of_another_account(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    x = platforms[0]  # the browser is logged in as @BelgiumInJapan, not @BelgiumCanada
    save_credentials("be-ottawa-x", CONSUMER, file=secrets_file)
    result = run("auth", "x", CAMPAIGN, "--account", "be-ottawa", input=typed(x_pin(x)))
    assert result.exit_code == 1
    assert "belong to @BelgiumInJapan, not @BelgiumCanada" in result.stderr
    assert "nothing was stored" in result.stderr
    assert read_secrets_file(secrets_file)["be-ottawa-x"].keys() == CONSUMER.keys()


def test_auth_x_wrong_pin_is_a_clear_error(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    result = run(
        "auth", "x", "--credentials", "be-test-x",
        input=typed("consumer-key", "consumer-secret", "0000000"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "could not exchange the PIN for an access token: X answered 401" in result.stderr
    assert "Traceback" not in result.output
    assert not secrets_file.exists()


def test_auth_x_wrong_consumer_secret_fails_before_any_url(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    result = run("auth", "x", "--credentials", "be-test-x", input=typed("consumer-key", "nope"))
    assert result.exit_code == 1
    assert "could not get a request token" in result.stderr
    assert "/oauth/authorize" not in result.output
    assert_absent(result, "nope")


def test_auth_mastodon_registers_an_app_and_exchanges_the_code(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    mastodon = platforms[1]
    result = run(
        "auth", "mastodon", "--credentials", "be-tokyo-mastodon",
        "--handle", "@belgiuminjapan", "--instance", "https://mastodon.social",
        input=typed(mastodon_code(mastodon)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (app,) = mastodon.apps.values()
    assert (app.name, app.scopes, app.redirect_uris) == (
        "campaign-scheduler",
        tuple(SCOPES),
        (OUT_OF_BAND,),
    )
    url = next(line for line in result.stderr.splitlines() if "/oauth/authorize?" in line)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(mastodon.url) and query["scope"] == [" ".join(SCOPES)]
    entry = read_secrets_file(secrets_file)["be-tokyo-mastodon"]
    assert entry.keys() == {"access_token"}
    assert mastodon.tokens[entry["access_token"]].scopes == tuple(SCOPES)
    assert "/.well-known/oauth-authorization-server" in [r.path for r in mastodon.requests]
    assert not mastodon.grants, "the code was exchanged, once"
    assert "Verified: Mastodon account @BelgiumInJapan" in result.output
    assert_absent(result, entry["access_token"], app.client_secret)


def code_for_the_app(fake: FakeMastodon) -> Callable[[], str]:
    """Like ``keyboard.mastodon_code``, for the scopes the app was registered with: the person
    opens the URL the command printed, which asks for those."""

    def read() -> str:
        client_id, app = list(fake.apps.items())[-1]
        query = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": OUT_OF_BAND,
            "scope": " ".join(app.scopes),
        }
        page = requests.get(f"{fake.url}/oauth/authorize?{urlencode(query)}", timeout=5)
        found = re.search(r'class="oauth-code" readonly type="text" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    return read


def test_auth_mastodon_on_a_server_that_knows_only_the_classic_scopes(
    secrets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No OAuth metadata, granular scopes refused: the command asks for read and write, the
    token verifies, and it settles a lost post (which needs the account's id and statuses)."""
    with FakeMastodon(scopes="classic") as classic:
        monkeypatch.setenv("CAMPAIGN_MASTODON_URL", classic.url)
        result = run(
            "auth", "mastodon", CAMPAIGN, "--account", "be-tokyo",
            input=typed(code_for_the_app(classic)),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        (app,) = classic.apps.values()
        assert app.scopes == tuple(CLASSIC_SCOPES) == ("read", "write")
        url = next(line for line in result.stderr.splitlines() if "/oauth/authorize?" in line)
        assert parse_qs(urlsplit(url).query)["scope"] == ["read write"]
        token = read_secrets_file(secrets_file)["be-tokyo-mastodon"]["access_token"]
        assert classic.tokens[token].scopes == ("read", "write")
        assert "Verified: Mastodon account @BelgiumInJapan" in result.output

        credentials = {"access_token": token}
        lost = OutgoingPart("Orange the World, from Tokyo", "k-tokyo")
        classic.commit_then_drop(path="/api/v1/statuses")
        with pytest.raises(OutcomeUnknown):
            mastodon_adapter(classic, credentials=credentials).publish(lost)
        since = classic.posted[0].created_at - dt.timedelta(minutes=1)
        found = mastodon_adapter(classic, credentials=credentials).find_published(lost, since=since)
        assert found is not None and found.remote_id == classic.posted[0].id


def test_auth_mastodon_print_env_prints_exports_and_stores_nothing(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    mastodon = platforms[1]
    result = run(
        "auth", "mastodon", CAMPAIGN, "--account", "be-tokyo", "--print-env",
        input=typed(mastodon_code(mastodon)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.stdout.splitlines() if "export" in line]
    words = shlex.split(line)
    variable, _, token = words[1].partition("=")
    assert words[0] == "export" and variable == env_name("be-tokyo-mastodon", "access_token")
    assert mastodon.tokens[token].account.username == "BelgiumInJapan"
    assert token not in result.stderr, "the secret is only in the export line asked for"
    assert "Verified: Mastodon account @BelgiumInJapan" in result.stderr
    assert not secrets_file.exists()


def test_auth_bluesky_checks_the_app_password_with_one_login(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    bluesky = platforms[2]
    result = run(
        "auth", "bluesky", CAMPAIGN, "--account", "be-tokyo", input=typed(bluesky.app_password)
    )
    assert result.exit_code == 0, result.output
    assert read_secrets_file(secrets_file)["be-tokyo-bluesky"] == {
        "app_password": bluesky.app_password
    }
    assert len(bluesky.logins) == 1, "the verification reuses the session of the check"
    session = secrets_file.parent / "sessions" / "be-tokyo-bluesky.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert "https://bsky.app/settings/app-passwords" in result.stderr
    assert "Verified: Bluesky account @belgiuminjapan.bsky.social" in result.output
    assert_absent(result, bluesky.app_password)


def test_auth_bluesky_refuses_what_is_not_an_app_password(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    bluesky = platforms[2]
    result = run(
        "auth", "bluesky", "--credentials", "be-test-bluesky",
        "--handle", "belgiuminjapan.bsky.social", input=typed("my-Main-Password1"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "not an app password" in result.stderr
    assert_absent(result, "my-Main-Password1")
    assert not bluesky.logins and not secrets_file.exists()


def test_auth_bluesky_wrong_app_password(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    result = run(
        "auth", "bluesky", CAMPAIGN, "--account", "be-tokyo", input=typed("wxyz-wxyz-wxyz-wxyz")
    )
    assert result.exit_code == 1
    assert "CredentialsInvalid" not in result.stderr and "could not log in" in result.stderr
    assert_absent(result, "wxyz-wxyz-wxyz-wxyz")
    assert not secrets_file.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x"], "give --account EMBASSY_ID"),
        (["x", CAMPAIGN, "--account", "be-nowhere"], "--account be-nowhere: no such embassy"),
        (["bluesky", "--credentials", "be-x"], "--handle is needed for Bluesky"),
        (["x", "--credentials", "Not A Name"], "--credentials 'Not A Name'"),
        (["x", CAMPAIGN, "--account", "be-tokyo", "--handle", "@a"], "go with --credentials"),
    ],
)
def test_auth_usage_errors(secrets_file: Path, args: list[str], message: str) -> None:
    result = run("auth", *args)
    assert result.exit_code == 2
    assert message in result.stderr


# --- campaign check -----------------------------------------------------------------------------


def real_accounts() -> list[AccountRef]:
    loaded = load_file(CAMPAIGN)
    assert loaded.campaign is not None
    return accounts_of(loaded.campaign.spec)


def give_every_account_credentials(
    x: FakeX, mastodon: FakeMastodon, bluesky: FakeBluesky, secrets_file: Path
) -> dict[str, dict[str, str]]:
    """Each account of campaigns.yaml made on its fake, its credentials in the secrets file."""
    stored: dict[str, dict[str, str]] = {}
    for ref in real_accounts():
        assert ref.handle is not None
        name = ref.handle.lstrip("@")
        if ref.platform is Platform.X:
            token, secret = x.token_of(x.add_user(name).username)
            stored[ref.credentials] = {
                **CONSUMER, "access_token": token, "access_token_secret": secret
            }  # fmt: skip
        elif ref.platform is Platform.MASTODON:
            stored[ref.credentials] = {
                "access_token": mastodon.token_of(mastodon.add_account(name).username)
            }
        else:
            stored[ref.credentials] = {"app_password": bluesky.add_account(name).app_password}
    write_secrets(secrets_file, stored)
    return stored


def write_secrets(path: Path, stored: dict[str, dict[str, str]]) -> None:
    text = "".join(
        f'["{name}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in values.items())
        for name, values in stored.items()
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def check_json(*args: str | Path) -> tuple[Result, dict[str, Any]]:
    result = run("check", *args, "--json")
    return result, json.loads(result.stdout)


def by_credentials(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {account["credentials"]: account for account in report["accounts"]}


def test_check_verifies_every_account_of_the_real_campaign(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    stored = give_every_account_credentials(*platforms, secrets_file)
    refs = real_accounts()
    assert len(refs) == 48

    result = run("check", CAMPAIGN)
    assert result.exit_code == 0, result.output
    for ref in refs:
        row = next(line for line in result.stdout.splitlines() if f" {ref.handle} " in line)
        assert ref.embassy_id in row and str(ref.platform) in row and " ok " in row
    assert "48 accounts, 0 with problems" in result.stdout
    every_secret = [value for values in stored.values() for value in values.values()]
    assert_absent(result, *every_secret)

    result, report = check_json(CAMPAIGN)
    assert result.exit_code == 0 and report["ok"] is True
    accounts = by_credentials(report)
    assert accounts.keys() == {ref.credentials for ref in refs}
    tokyo = accounts["be-tokyo-mastodon"]
    assert tokyo["embassy"] == "be-tokyo" and tokyo["platform"] == "mastodon"
    assert tokyo["identity"]["handle"].lower() == "@belgiuminjapan"
    assert tokyo["limits"]["max_characters"] == 500 and tokyo["deliveries"] > 0
    assert tokyo["problems"] == [] and tokyo["ok"] is True
    assert report["media"] and all(media["ok"] for media in report["media"])
    assert {m["file"] for m in report["media"]} == {
        a.file for d in plan_file(CAMPAIGN)[0].deliveries for a in d.media
    }
    assert all(secret not in result.stdout for secret in every_secret)


def test_check_reports_each_broken_account_and_passes_the_others(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path
) -> None:
    x, mastodon, bluesky = platforms
    stored = give_every_account_credentials(x, mastodon, bluesky, secrets_file)
    x.revoke(stored["be-washington-x"]["access_token"])
    bluesky.revoke("belgiquesenegal.bsky.social")
    stored["be-mexico-x"] = stored["be-brasilia-x"]  # a token for the wrong account
    del stored["be-ottawa-mastodon"]
    write_secrets(secrets_file, stored)

    result, report = check_json(CAMPAIGN)
    assert result.exit_code == 1 and report["ok"] is False
    accounts = by_credentials(report)
    failing = {name for name, account in accounts.items() if not account["ok"]}
    assert failing == {
        "be-washington-x", "be-dakar-bluesky", "be-mexico-x", "be-ottawa-mastodon"
    }  # fmt: skip
    (revoked,) = accounts["be-washington-x"]["problems"]
    assert revoked.startswith("CredentialsInvalid: X account @BelgiumInUSA: could not verify")
    assert accounts["be-dakar-bluesky"]["problems"][0].startswith("CredentialsInvalid: Bluesky")
    (mismatch,) = accounts["be-mexico-x"]["problems"]
    assert mismatch == "the credentials 'be-mexico-x' belong to @BelgicaBrasil, not @BelgicaMexico"
    (missing,) = accounts["be-ottawa-mastodon"]["problems"]
    assert "MissingCredentials: credentials 'be-ottawa-mastodon'" in missing
    assert missing.endswith(
        f"; store them with `campaign auth mastodon --account be-ottawa {CAMPAIGN}`"
    )
    assert "CAMPAIGN_SECRET_BE_OTTAWA_MASTODON_ACCESS_TOKEN" in missing
    assert str(secrets_file) in missing
    assert accounts["be-ottawa-mastodon"]["identity"] is None

    table = run("check", CAMPAIGN)
    assert table.exit_code == 1
    assert "48 accounts, 4 with problems" in table.stdout
    assert sum(" FAIL " in line for line in table.stdout.splitlines()) == 4
    assert_absent(table, *(v for values in stored.values() for v in values.values()))


def test_check_missing_credentials_in_the_environment_only(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky],
    secrets_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Environment first: a variable alone is enough, and the file need not exist."""
    stored = give_every_account_credentials(*platforms, secrets_file)
    secrets_file.unlink()
    for name, values in stored.items():
        if name != "be-suva-x":
            for field, value in values.items():
                monkeypatch.setenv(env_name(name, field), value)
    result, report = check_json(CAMPAIGN)
    assert result.exit_code == 1
    (failing,) = [a for a in report["accounts"] if not a["ok"]]
    assert failing["credentials"] == "be-suva-x"
    assert "(which does not exist)" in failing["problems"][0]


def test_check_a_live_limit_below_a_planned_post(
    fake_x: FakeX, fake_bluesky: FakeBluesky, secrets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeMastodon(max_characters=120) as small:
        monkeypatch.setenv("CAMPAIGN_X_API_URL", fake_x.url)
        monkeypatch.setenv("CAMPAIGN_MASTODON_URL", small.url)
        monkeypatch.setenv("CAMPAIGN_BLUESKY_URL", fake_bluesky.url)
        give_every_account_credentials(fake_x, small, fake_bluesky, secrets_file)
        result, report = check_json(CAMPAIGN)
    assert result.exit_code == 1
    for account in report["accounts"]:
        assert account["ok"] is (account["platform"] != "mastodon"), account
    problem = by_credentials(report)["be-tokyo-mastodon"]["problems"][0]
    assert re.match(r"\d+ planned posts? longer than the live limit of 120 characters: ", problem)
    assert "/be-tokyo/mastodon/" in problem


def test_check_finds_a_damaged_image(
    platforms: tuple[FakeX, FakeMastodon, FakeBluesky], secrets_file: Path, tmp_path: Path
) -> None:
    give_every_account_credentials(*platforms, secrets_file)
    folder = tmp_path / "campaign"
    shutil.copytree(ROOT / "media", folder / "media")
    shutil.copy(CAMPAIGN, folder / "campaigns.yaml")
    damaged = sorted((folder / "media").rglob("*.png"))[0]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    result, report = check_json(folder / "campaigns.yaml")
    assert result.exit_code == 1
    assert all(account["ok"] for account in report["accounts"])
    (bad,) = [media for media in report["media"] if not media["ok"]]
    assert bad["file"] == damaged.relative_to(folder).as_posix()
    assert "damaged or truncated" in bad["problem"]


def test_check_an_invalid_file_fails_like_validate(secrets_file: Path, tmp_path: Path) -> None:
    file = tmp_path / "campaigns.yaml"
    file.write_text("campaign: {id: x}\n", encoding="utf-8")
    result = run("check", file)
    assert result.exit_code == 1
    assert "error" in result.output and "Traceback" not in result.output


# --- the pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "live", "same"),
    [
        ("@BelgiumInUSA", "@belgiuminusa", True),
        ("belgiuminusa.bsky.social", "@belgiuminusa.bsky.social", True),
        ("@belgiumcanada@mastodon.social", "@belgiumcanada", True),
        ("@belgiumcanada@mastodon.social", "@belgiumcanada@piaille.fr", False),
        ("@BelgiumInUSA", "@BelgiumInUSA2", False),
    ],
)
def test_same_handle(expected: str, live: str, same: bool) -> None:
    assert same_handle(expected, live) is same


def test_mastodon_lengths_are_recounted_with_the_instances_link_weight(tmp_path: Path) -> None:
    plan, _ = plan_file(write_campaign_text(tmp_path))
    mastodon = [d for d in plan.deliveries if d.platform is Platform.MASTODON]
    with_link = [d for d in mastodon if "https://" in d.text]
    assert with_link, "the campaign has a link for Mastodon"
    longest = max(d.length for d in with_link)
    limits = AccountLimits(longest, 4, 16_000_000, characters_reserved_per_url=23)
    assert compare_limits(with_link, limits) == ([], [])
    heavier = AccountLimits(longest, 4, 16_000_000, characters_reserved_per_url=60)
    problems, notes = compare_limits(with_link, heavier)
    assert notes == ["the instance counts a link as 60 characters; lengths recounted"]
    assert problems and f"longer than the live limit of {longest} characters" in problems[0]


# --- campaign check: where Mastodon's limits come from ----------------------------------------

NO_INSTANCE_INFORMATION = {
    "/api/v2/instance", "/api/v2/instance/", "/api/v1/instance", "/api/v1/instance/"
}  # fmt: skip


def check_against(
    mastodon: FakeMastodon,
    fake_x: FakeX,
    fake_bluesky: FakeBluesky,
    secrets_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Result, Result, dict[str, Any]]:
    """`campaign check` as a table and as JSON, with ``mastodon`` as every Mastodon instance."""
    monkeypatch.setenv("CAMPAIGN_X_API_URL", fake_x.url)
    monkeypatch.setenv("CAMPAIGN_MASTODON_URL", mastodon.url)
    monkeypatch.setenv("CAMPAIGN_BLUESKY_URL", fake_bluesky.url)
    give_every_account_credentials(fake_x, mastodon, fake_bluesky, secrets_file)
    table = run("check", CAMPAIGN)
    result, report = check_json(CAMPAIGN)
    return table, result, report


def test_check_says_the_limits_are_assumed_when_the_instance_gives_none(
    fake_x: FakeX, fake_bluesky: FakeBluesky, secrets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither instance information nor nodeinfo answers: the defaults stand in, and the table
    says so for each Mastodon account (and only for those)."""
    with FakeMastodon(absent={*NO_INSTANCE_INFORMATION, "/.well-known/nodeinfo"}) as silent:
        table, result, report = check_against(
            silent, fake_x, fake_bluesky, secrets_file, monkeypatch
        )
    mastodon = [ref for ref in real_accounts() if ref.platform is Platform.MASTODON]
    assert table.exit_code == 0 and result.exit_code == 0
    assert table.stdout.count("assumed") == len(mastodon) > 0
    accounts = by_credentials(report)
    for ref in real_accounts():
        limits = accounts[ref.credentials]["limits"]
        if ref.platform is Platform.MASTODON:
            assert limits["assumed"] == [
                "max_alt_text", "max_characters", "max_image_bytes", "max_media"
            ]  # fmt: skip
            assert limits["max_image_bytes"] == 16_777_216
        else:
            assert limits["assumed"] == []


def test_check_reads_v1_where_only_its_documented_path_answers(
    fake_x: FakeX, fake_bluesky: FakeBluesky, secrets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No v2, and v1 only without the trailing slash: 10 MiB, as the server says, not the
    16 MiB default (which Mastodon.py's /api/v1/instance/ would have left)."""
    v1_only = NO_INSTANCE_INFORMATION - {"/api/v1/instance"}
    with FakeMastodon(image_size_limit=10_485_760, absent=v1_only) as server:
        table, _, report = check_against(server, fake_x, fake_bluesky, secrets_file, monkeypatch)
    tokyo = by_credentials(report)["be-tokyo-mastodon"]
    assert tokyo["limits"]["max_image_bytes"] == 10_485_760
    assert tokyo["limits"]["assumed"] == ["max_alt_text"]  # v1 has no description_limit
    assert "10,485,760 bytes" in table.stdout and "assumed" not in table.stdout


def test_the_settings_name_the_bluesky_appview_an_adapter_reads_counts_from() -> None:
    ref = AccountRef(Platform.BLUESKY, "be-tokyo-bluesky", "@belgiuminjapan.bsky.social")
    named = Settings.model_validate({"platforms": {"bluesky": {"appview": "https://av.test"}}})
    assert connection(ref, named)[0].appview == "https://av.test"
    assert connection(ref, Settings())[0].appview is None  # the adapter's default then
