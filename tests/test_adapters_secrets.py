"""Secrets: lookup order, the file's mode, atomic private writes, and values that never show."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from adapters.secrets import (
    Secret,
    default_secrets_file,
    env_lines,
    env_name,
    load_credentials,
    read_secrets_file,
    save_credentials,
    session_state,
    write_private,
)
from scheduler.errors import ConfigurationError

FIELDS = ("access_token", "access_token_secret")


def test_variable_names() -> None:
    assert env_name("be-tokyo.x", "access_token") == "CAMPAIGN_SECRET_BE_TOKYO_X_ACCESS_TOKEN"


def test_the_environment_comes_first(tmp_path: Path) -> None:
    file = tmp_path / "secrets.toml"
    save_credentials(
        "be-tokyo-x", {"access_token": "from-file", "access_token_secret": "file-secret"}, file=file
    )
    environ = {"CAMPAIGN_SECRET_BE_TOKYO_X_ACCESS_TOKEN": "from-env"}
    found = load_credentials("be-tokyo-x", FIELDS, environ=environ, file=file)
    assert {k: v.reveal() for k, v in found.items()} == {
        "access_token": "from-env",
        "access_token_secret": "file-secret",
    }


def test_the_file_is_found_through_its_variable(tmp_path: Path) -> None:
    file = tmp_path / "elsewhere.toml"
    save_credentials("be-paris-mastodon", {"access_token": "t"}, file=file)
    environ = {"CAMPAIGN_SECRETS_FILE": str(file)}
    assert default_secrets_file(environ) == file
    assert (
        load_credentials("be-paris-mastodon", ["access_token"], environ=environ)[
            "access_token"
        ].reveal()
        == "t"
    )


def test_default_file_is_in_the_user_config_folder(tmp_path: Path) -> None:
    assert (
        default_secrets_file({"XDG_CONFIG_HOME": str(tmp_path)})
        == tmp_path / "campaign" / "secrets.toml"
    )


def test_missing_secrets_name_what_was_looked_at_not_values(tmp_path: Path) -> None:
    file = tmp_path / "secrets.toml"
    save_credentials("be-tokyo-x", {"access_token": "very-secret-value"}, file=file)
    with pytest.raises(ConfigurationError) as raised:
        load_credentials("be-tokyo-x", FIELDS, environ={}, file=file)
    message = str(raised.value)
    assert "be-tokyo-x" in message and "CAMPAIGN_SECRET_BE_TOKYO_X_ACCESS_TOKEN_SECRET" in message
    assert str(file) in message and "very-secret-value" not in message


def test_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "secrets.toml"
    save_credentials("be-tokyo-x", {"access_token": "t"}, file=file)
    file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_credentials("be-tokyo-x", ["access_token"], environ={}, file=file)


def test_writes_are_private_and_keep_other_entries(tmp_path: Path) -> None:
    file = tmp_path / "config" / "secrets.toml"
    save_credentials("a", {"k": 'quote " backslash \\ and ünïcode 🇧🇪'}, file=file)
    save_credentials("b.x", {"k": "2"}, file=file)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert (
        load_credentials("a", ["k"], environ={}, file=file)["k"].reveal()
        == 'quote " backslash \\ and ünïcode 🇧🇪'
    )
    assert load_credentials("b.x", ["k"], environ={}, file=file)["k"].reveal() == "2"
    assert [p.name for p in file.parent.iterdir()] == ["secrets.toml"]  # no temporary left behind


def test_invalid_toml_is_reported_without_its_content(tmp_path: Path) -> None:
    file = tmp_path / "secrets.toml"
    file.write_text("[a]\nk = secret-without-quotes\n")
    file.chmod(0o600)
    with pytest.raises(ConfigurationError) as raised:
        load_credentials("a", ["k"], environ={}, file=file)
    assert "secret-without-quotes" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_secret_values_never_show() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert "hunter2" not in repr({"token": secret})
    assert secret == Secret("hunter2") and secret != Secret("other")


def test_env_lines_quote_for_a_shell() -> None:
    assert env_lines("be-tokyo-x", {"access_token": "a b"}) == [
        "export CAMPAIGN_SECRET_BE_TOKYO_X_ACCESS_TOKEN='a b'"
    ]


def test_invalid_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="credentials name"):
        load_credentials("../etc/passwd", ["k"], environ={}, file=tmp_path / "s.toml")


def test_session_state_lives_beside_the_secrets_file(tmp_path: Path) -> None:
    state = session_state("be-tokyo-bluesky", file=tmp_path / "secrets.toml")
    assert state.load() is None
    state.save("session")
    assert state.load() == "session"
    assert state.path == tmp_path / "sessions" / "be-tokyo-bluesky.session"
    assert stat.S_IMODE(os.stat(state.path).st_mode) == 0o600


def _settled(path: Path) -> None:
    """Date the file a minute back, as a file written long before the daemon reads it."""
    past = path.stat().st_mtime_ns - 60 * 10**9
    os.utime(path, ns=(past, past))


def test_an_unchanged_file_is_parsed_once_for_every_account(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    write_private(path, '[a]\naccess_token = "one"\n\n[b]\naccess_token = "two"\n')
    _settled(path)
    first = read_secrets_file(path)
    assert read_secrets_file(path) is first  # the same parse: no second read of the file
    assert load_credentials("b", ["access_token"], file=path, environ={}) == {
        "access_token": Secret("two")
    }


def test_a_new_version_of_the_file_is_read_at_once(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    write_private(path, '[a]\naccess_token = "old"\n')
    _settled(path)
    assert read_secrets_file(path)["a"]["access_token"] == "old"
    save_credentials("a", {"access_token": "new"}, file=path)  # `campaign auth` replaces it
    assert read_secrets_file(path)["a"]["access_token"] == "new"
    # Edited in place, same size, within the same instant as far as the file system can tell.
    with path.open("r+", encoding="utf-8") as stream:
        text = stream.read()
        stream.seek(0)
        stream.write(text.replace('"new"', '"NEW"'))
    assert read_secrets_file(path)["a"]["access_token"] == "NEW"


def test_a_file_opened_to_others_after_it_was_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    write_private(path, '[a]\naccess_token = "one"\n')
    _settled(path)
    read_secrets_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="others can read it"):
        read_secrets_file(path)


def test_the_parse_cannot_be_changed_by_a_caller(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    write_private(path, '[a]\naccess_token = "one"\n')
    _settled(path)
    tables = read_secrets_file(path)
    with pytest.raises(TypeError):
        tables["a"]["access_token"] = "changed"  # type: ignore[index]
    save_credentials("b", {"access_token": "two"}, file=path)
    assert set(read_secrets_file(path)) == {"a", "b"}
