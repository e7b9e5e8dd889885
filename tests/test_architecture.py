"""The layers import in one direction only, and each command loads only what it uses.

The order, top to bottom, is the one ``scheduler/__init__.py`` and docs/architecture.md draw:
a module may import from its own layer and any layer below it, never from one above. Every
import counts: at module level, inside a function, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("scheduler.cli",),
    ("scheduler.web",),
    ("scheduler.views",),
    ("scheduler.service",),
    ("scheduler.daemon",),
    ("scheduler.store",),
    ("scheduler.settings", "scheduler.defaults"),
    ("scheduler.campaign",),
    ("scheduler.errors", "scheduler.problems"),
    ("adapters",),
)
"""Top to bottom. ``scheduler`` itself, the package's front (its public names load lazily from
the layers), sits above them all; no layer imports it."""

# Only the store speaks SQL.
DATABASE_LIBRARIES = ("sqlalchemy", "alembic")
FRONT_DOORS = {"scheduler.cli": "the CLI", "scheduler.web": "the web dashboard"}
"""They reach the store and the daemon only through scheduler.service."""


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> int | None:
    """The rank of ``module``'s layer (0 is the top); -1 for the ``scheduler`` package itself;
    None for a module of neither package (the standard library, a dependency)."""
    if module == "scheduler":
        return -1
    for rank, packages in enumerate(LAYERS):
        if any(_within(module, package) for package in packages):
            return rank
    return None


def imports_of(module: str, source: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module that ``source`` imports, wherever the import statement stands."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            if base == "scheduler":  # `from scheduler import x`: the layer is x's
                yield from (f"{base}.{alias.name}" for alias in node.names)
            else:
                yield base


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What in ``source`` breaks the import contract, one line each."""
    found = []
    rank = layer_of(module)
    for target in imports_of(module, source, is_package=is_package):
        reason = _broken_rule(module, rank, target)
        if reason:
            found.append(f"{module} imports {target} ({reason})")
    return found


def _broken_rule(module: str, rank: int | None, target: str) -> str | None:
    target_rank = layer_of(target)
    if target.partition(".")[0] in DATABASE_LIBRARIES and not _within(module, "scheduler.store"):
        return "SQL outside scheduler.store"
    if _within(module, "adapters") and _within(target, "scheduler"):
        return "adapters import nothing from scheduler"
    front_door = next((door for door in FRONT_DOORS if _within(module, door)), None)
    if front_door and (_within(target, "scheduler.store") or _within(target, "scheduler.daemon")):
        return f"{FRONT_DOORS[front_door]} goes through scheduler.service"
    if rank is None or target_rank is None or target_rank >= rank or rank == -1:
        return None
    return "upward"


def _modules() -> Iterator[tuple[str, Path]]:
    for top in ("scheduler", "adapters"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


SQL_OUTSIDE_STORE = "(SQL outside scheduler.store)"


def _all_violations() -> list[str]:
    return [
        line
        for module, path in _modules()
        for line in violations(
            module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
        )
    ]


def test_every_import_goes_down_the_layers() -> None:
    found = [line for line in _all_violations() if not line.endswith(SQL_OUTSIDE_STORE)]
    assert not found, "imports that break the layers:\n" + "\n".join(found)


def test_only_the_store_imports_sqlalchemy() -> None:
    found = [line for line in _all_violations() if line.endswith(SQL_OUTSIDE_STORE)]
    assert not found, "SQL outside scheduler.store:\n" + "\n".join(found)


def test_the_checker_reports_an_upward_import() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from scheduler.store.database import Database\n"  # downward: allowed
        "if TYPE_CHECKING:\n"
        "    from scheduler.views.preview import Summary\n"
        "def later():\n"
        "    from ..cli import common\n"
        "    import sqlalchemy\n"
    )
    assert violations("scheduler.service.example", source) == [
        "scheduler.service.example imports scheduler.views.preview (upward)",
        "scheduler.service.example imports scheduler.cli (upward)",
        "scheduler.service.example imports sqlalchemy (SQL outside scheduler.store)",
    ]


def test_the_checker_reports_the_extra_rules() -> None:
    assert violations("scheduler.cli.example", "from scheduler.store import pauses\n") == [
        "scheduler.cli.example imports scheduler.store (the CLI goes through scheduler.service)"
    ]
    assert violations("scheduler.web.example", "from scheduler.daemon import runner\n") == [
        "scheduler.web.example imports scheduler.daemon (the web dashboard goes through "
        "scheduler.service)"
    ]
    assert violations("scheduler.web.example", "import sqlalchemy\n") == [
        "scheduler.web.example imports sqlalchemy (SQL outside scheduler.store)"
    ]
    assert violations("scheduler.web.example", "from scheduler.cli import main\n") == [
        "scheduler.web.example imports scheduler.cli (upward)"
    ]
    assert violations("scheduler.cli.example", "from scheduler.web import app\n") == []
    assert violations("adapters.example", "from scheduler import errors\n") == [
        "adapters.example imports scheduler.errors (adapters import nothing from scheduler)"
    ]
    assert violations("scheduler.campaign", "from . import model\n", is_package=True) == []


# --- what a command loads -------------------------------------------------------------------

DAEMON_ONLY = ("apscheduler", "tweepy", "mastodon", "atproto")
WEB_ONLY = ("starlette", "uvicorn", "scheduler.web")


def _loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """Which of ``watched`` a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport sys\nprint(','.join(m for m in {watched!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    last = result.stdout.splitlines()[-1] if result.stdout.strip() else ""
    return [name for name in last.split(",") if name]


def _command(*args: str) -> str:
    return (
        "from scheduler.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
    )


def test_importing_adapters_loads_no_sql_and_no_sdk() -> None:
    code = "import adapters, adapters.registry"
    assert _loaded_after(code, ("sqlalchemy", *DAEMON_ONLY, "requests", "httpx")) == []


@pytest.mark.parametrize(
    ("args", "unwanted"),
    [
        (
            ("--help",),
            ("sqlalchemy", "alembic", *DAEMON_ONLY, *WEB_ONLY, "requests", "apprise"),
        ),
        (("web", "--help"), ("sqlalchemy", *DAEMON_ONLY, *WEB_ONLY)),
        (
            ("validate", str(ROOT / "campaigns.yaml")),
            ("scheduler.store", "scheduler.daemon", "sqlalchemy", *DAEMON_ONLY),
        ),
        (
            ("preview", str(ROOT / "campaigns.yaml"), "-f", "json"),
            ("scheduler.store", "scheduler.daemon", "sqlalchemy", *DAEMON_ONLY),
        ),
    ],
    ids=["help", "web-help", "validate", "preview"],
)
def test_a_command_loads_only_what_it_uses(
    args: tuple[str, ...], unwanted: tuple[str, ...]
) -> None:
    assert _loaded_after(_command(*args), unwanted) == []
