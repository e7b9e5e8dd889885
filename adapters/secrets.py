"""Where account secrets come from, and a type that keeps them out of logs.

A campaign file names each account's credentials (``credentials: be-tokyo-x``); this module turns
that name into the secrets themselves. Lookup order, field by field:

1. the environment: ``CAMPAIGN_SECRET_<NAME>_<FIELD>``, upper-cased, with ``-`` and ``.`` as
   ``_`` (``be-tokyo-x`` / ``access_token`` -> ``CAMPAIGN_SECRET_BE_TOKYO_X_ACCESS_TOKEN``);
2. the secrets file: ``$CAMPAIGN_SECRETS_FILE``, or ``secrets.toml`` in the user's config folder
   (``$XDG_CONFIG_HOME/campaign/``, by default ``~/.config/campaign/``). One TOML table per
   name. The file must not be readable by anyone but its owner (mode 0600), or it is refused.

Values are wrapped in :class:`Secret`, whose ``repr`` and ``str`` are masked, so a secret that
reaches a log line, an error message or a preview shows as ``Secret('***')``. Errors name the
credentials, the variables and the file that were looked at, never a value.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import re
import shlex
import stat
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from adapters.errors import ConfigurationError


class MissingCredentials(ConfigurationError):
    """No stored value for some of an account's credentials: `campaign auth` stores them."""


ENV_PREFIX = "CAMPAIGN_SECRET_"
FILE_VARIABLE = "CAMPAIGN_SECRETS_FILE"
FILE_NAME = "secrets.toml"
_OWNER_ONLY = 0o600
_NAME = re.compile(r"^[a-z0-9._-]{1,64}$")


class Secret:
    """A secret value; ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not to be pickled")


def env_name(credentials: str, field: str) -> str:
    """The environment variable holding one field of one credentials entry."""
    return ENV_PREFIX + re.sub(r"[-.]", "_", f"{credentials}_{field}").upper()


def default_secrets_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(FILE_VARIABLE):
        return Path(env[FILE_VARIABLE]).expanduser()
    config = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "campaign" / FILE_NAME


def load_credentials(
    name: str,
    fields: Iterable[str],
    *,
    environ: Mapping[str, str] | None = None,
    file: Path | None = None,
) -> dict[str, Secret]:
    """Every one of ``fields`` for credentials ``name``: environment first, then the file."""
    _check_name(name)
    env = os.environ if environ is None else environ
    wanted = list(fields)
    found = {
        field: Secret(env[env_name(name, field)])
        for field in wanted
        if env_name(name, field) in env
    }
    missing = [field for field in wanted if field not in found]
    if not missing:
        return found
    path = file or default_secrets_file(env)
    entry = read_secrets_file(path).get(name, {})
    found.update({field: Secret(entry[field]) for field in missing if field in entry})
    still_missing = [field for field in wanted if field not in found]
    if still_missing:
        variables = ", ".join(env_name(name, field) for field in still_missing)
        raise MissingCredentials(
            f"credentials {name!r}: no {', '.join(still_missing)} in the environment "
            f"({variables}) or in the secrets file {path}"
            + ("" if path.exists() else " (which does not exist)")
        )
    return found


def read_secrets_file(path: Path) -> Mapping[str, Mapping[str, str]]:
    """The file's tables, read-only; an absent file is empty. Refused unless only its owner can
    read it.

    Parsed once per version of the file: a daemon asks for every account's credentials in turn,
    and parsing the whole file each time made that quadratic in the number of accounts (48 s for
    2,001 accounts). The file is still looked at on every call, so a new version (``campaign
    auth`` replaces it; an operator edits it) or a wider mode is seen at once."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return {}
    if stat.S_IMODE(status.st_mode) & 0o077:
        raise ConfigurationError(
            f"secrets file {path} has mode {stat.S_IMODE(status.st_mode):04o}: others can read "
            f"it. Run `chmod 600 {shlex.quote(str(path))}` and try again."
        )
    version = (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    with _PARSED_LOCK:
        cached = _PARSED.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
    tables = _parse_secrets(path)
    # A file changed in place within the file system's timestamp granularity of our look at it
    # keeps its size and times: only a version older than that is trusted again (git's "racily
    # clean" rule).
    if time.time_ns() - status.st_mtime_ns > _SETTLED_NS:
        with _PARSED_LOCK:
            _PARSED[path] = (version, tables)
    return tables


def _parse_secrets(path: Path) -> Mapping[str, Mapping[str, str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        # The parser's message may quote a line of the file, and so a secret: leave it out.
        raise ConfigurationError(f"secrets file {path} is not valid TOML") from None
    return MappingProxyType(
        {
            str(name): MappingProxyType({str(k): str(v) for k, v in table.items()})
            for name, table in data.items()
            if isinstance(table, dict)
        }
    )


_PARSED: dict[Path, tuple[tuple[int, int, int, int], Mapping[str, Mapping[str, str]]]] = {}
"""The last parse of each secrets file, with the version (inode, size, times) it was read at."""
_PARSED_LOCK = threading.Lock()
_SETTLED_NS = 2_000_000_000
"""How old a version of the file must be before its parse is kept: well past any file system's
timestamp granularity."""


def save_credentials(
    name: str, values: Mapping[str, str | Secret], *, file: Path | None = None
) -> Path:
    """Add or replace credentials ``name`` in the secrets file, atomically, with mode 0600."""
    _check_name(name)
    path = file or default_secrets_file()
    tables = dict(read_secrets_file(path))
    tables[name] = {field: _plain(value) for field, value in values.items()}
    write_private(path, _to_toml(tables))
    return path


def env_lines(name: str, values: Mapping[str, str | Secret]) -> list[str]:
    """``export`` lines for a shell, the other place secrets may live."""
    return [f"export {env_name(name, f)}={shlex.quote(_plain(v))}" for f, v in values.items()]


class FileState:
    """A :class:`adapters.base.StateStore` in a private file, e.g. a Bluesky session."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        try:
            if stat.S_IMODE(self.path.stat().st_mode) & 0o077:
                return None  # someone widened it: treat as absent, a fresh login rewrites it
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, value: str) -> None:
        write_private(self.path, value)


def session_state(name: str, *, file: Path | None = None) -> FileState:
    """Where the session of credentials ``name`` is kept: beside the secrets file."""
    _check_name(name)
    folder = (file or default_secrets_file()).parent / "sessions"
    return FileState(folder / f"{name}.session")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; the file is created 0600, its folder 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _OWNER_ONLY)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def valid_name(name: str) -> bool:
    """Whether ``name`` can name credentials: lower-case letters, digits, '.', '-', '_'."""
    return _NAME.match(name) is not None


def _check_name(name: str) -> None:
    if not valid_name(name):
        raise ConfigurationError(
            f"credentials name {name!r}: use lower-case letters, digits, '.', '-', '_' (at most 64)"
        )


def _plain(value: str | Secret) -> str:
    return value.reveal() if isinstance(value, Secret) else value


def _toml_string(value: str) -> str:
    # JSON's escapes are valid TOML basic-string escapes; DEL is the one TOML also requires.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _to_toml(tables: Mapping[str, Mapping[str, str]]) -> str:
    lines = ["# Secrets for campaign accounts. Keep this file mode 0600; see docs/secrets.md."]
    for name in sorted(tables):
        lines += ["", f"[{_toml_string(name)}]"]
        lines += [f"{_toml_string(k)} = {_toml_string(v)}" for k, v in sorted(tables[name].items())]
    return "\n".join(lines) + "\n"
