"""The documentation says what the code does (sqlite-utils' test_docs.py, extended).

Every list checked here is derived from the code, never copied into the test: the keys from the
pydantic models, the problem codes from the source, the commands and options from the click
group. A new key, code, command or option fails a test until it is documented.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from click.testing import CliRunner
from PIL import Image
from pydantic import BaseModel

from adapters.capabilities import CAPABILITIES, Platform
from scheduler.campaign.loader import _code
from scheduler.campaign.model import CampaignFile, json_schema
from scheduler.campaign.sourcemap import parse_yaml
from scheduler.cli import EXIT_PROBLEMS, EXIT_USAGE, main
from scheduler.service.validation import validate_file
from scheduler.views.preview import XPricing
from scheduler.views.preview.csv_json import CSV_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
FORMAT_DOC = ROOT / "docs" / "campaign-format.md"
CLI_DOC = ROOT / "docs" / "cli.md"
SOURCES = sorted([*(ROOT / "scheduler").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")])

_EMIT = re.compile(r"\b(error|warning|notice)\(\s*\"([a-z0-9-]+)\"")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#+) (.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def format_doc() -> str:
    return FORMAT_DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cli_doc() -> str:
    return CLI_DOC.read_text(encoding="utf-8")


# --- helpers ----------------------------------------------------------------------------------


def _inner_types(annotation: Any) -> Iterator[Any]:
    """Every type inside an annotation: Optional, list, dict keys and values, Annotated."""
    yield annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        args = args[:1]
    elif origin not in (typing.Union, types.UnionType, list, dict, tuple, set, frozenset):
        return
    for arg in args:
        yield from _inner_types(arg)


def _models(root: type[BaseModel] = CampaignFile) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    pending = [root]
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            for inner in _inner_types(field.annotation):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    pending.append(inner)
    return found


def _keys() -> list[tuple[str, str]]:
    """(model name, key as written in the file) for every field of every model."""
    return [
        (model.__name__, field.alias or name)
        for model in _models()
        for name, field in model.model_fields.items()
    ]


def _enums() -> set[type[Enum]]:
    return {
        inner
        for model in _models()
        for field in model.model_fields.values()
        for inner in _inner_types(field.annotation)
        if isinstance(inner, type) and issubclass(inner, Enum)
    }


def _emitted_codes() -> dict[str, set[str]]:
    """Problem code -> the severities the source reports it with."""
    codes: dict[str, set[str]] = {}
    for path in SOURCES:
        for severity, code in _EMIT.findall(path.read_text(encoding="utf-8")):
            codes.setdefault(code, set()).add(severity)
    # The loader names pydantic's type errors through _code(), not a literal.
    for kind in ("value_error", "enum", "too_short", "int_type", "date_parsing"):
        codes.setdefault(_code(kind), set()).add("error")
    return codes


def _section(doc: str, title: str) -> str:
    """The text under the first heading containing ``title``, up to the next heading as high."""
    for match in _HEADING.finditer(doc):
        if title in match.group(2):
            level = len(match.group(1))
            rest = doc[match.end() :]
            end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
            return rest[: end.start()] if end else rest
    raise AssertionError(f"no heading containing {title!r}")


def _problem_table(doc: str) -> dict[str, set[str]]:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| ([^|]+) \|", _section(doc, "Problem codes"), re.M)
    return {code: set(re.findall(r"error|warning|notice", cell)) for code, cell in rows}


def _table_rows(doc: str, key: str) -> list[str]:
    return re.findall(rf"^\| `{re.escape(key)}`[^\n]*", doc, re.MULTILINE)


def _row_of(table: str, label: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"| {label} |"))


def _yaml_blocks(doc: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(doc) if lang == "yaml"]


def _complete_campaigns(doc: str) -> list[str]:
    return [
        block
        for block in _yaml_blocks(doc)
        if re.search(r"^campaign:", block, re.M) and re.search(r"^embassies:", block, re.M)
    ]


def _json_ready(value: Any) -> Any:
    """YAML's dates as the strings an editor's schema validator sees."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _commands(
    command: click.Command, path: tuple[str, ...] = ("campaign",)
) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            if not sub.hidden:
                yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(main))


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _default_text(value: object) -> str | None:
    """How the docs write a scalar default, or None when it is not a scalar."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds and seconds % size == 0:
                return f"{seconds // size}{unit}"
        return f"{seconds}s"
    if isinstance(value, int | str):
        return str(value)
    return None


# --- the campaign format ----------------------------------------------------------------------


@pytest.mark.parametrize(("model", "key"), _keys(), ids=[f"{m}.{k}" for m, k in _keys()])
def test_every_key_is_documented(format_doc: str, model: str, key: str) -> None:
    assert f"`{key}`" in format_doc, f"{model}: `{key}` is not in docs/campaign-format.md"
    assert _table_rows(format_doc, key), f"{model}: `{key}` has no row in a reference table"


@pytest.mark.parametrize(("model", "key"), _keys(), ids=[f"{m}.{k}" for m, k in _keys()])
def test_scalar_defaults_are_documented(format_doc: str, model: str, key: str) -> None:
    model_class = next(m for m in _models() if m.__name__ == model)
    field = next(f for n, f in model_class.model_fields.items() if (f.alias or n) == key)
    expected = None if field.default is None else _default_text(field.default)
    if expected is None or field.is_required():
        return
    rows = _table_rows(format_doc, key)
    assert any(f"`{expected}`" in row for row in rows), f"{model}.{key}: default `{expected}`"


@pytest.mark.parametrize("enum", sorted(_enums(), key=lambda e: e.__name__))
def test_every_choice_is_documented(format_doc: str, enum: type[Enum]) -> None:
    missing = [member.value for member in enum if f"`{member.value}`" not in format_doc]
    assert not missing, f"{enum.__name__}: {missing} not in docs/campaign-format.md"


def test_every_problem_code_is_in_the_table(format_doc: str) -> None:
    table = _problem_table(format_doc)
    emitted = _emitted_codes()
    assert not sorted(set(emitted) - set(table)), "undocumented problem codes"
    for code, severities in emitted.items():
        assert table[code] == severities, f"{code}: the table says {table[code]}"


def test_the_table_lists_no_code_the_source_lacks(format_doc: str) -> None:
    source = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)
    stale = [code for code in _problem_table(format_doc) if f'"{code}"' not in source]
    assert not stale, f"documented but never reported: {stale}"


@pytest.mark.parametrize("platform", list(CAPABILITIES))
def test_platform_limits_match_capabilities(format_doc: str, platform: Platform) -> None:
    capabilities = CAPABILITIES[platform]
    limits = _section(format_doc, "Image limits")
    row = _row_of(limits, capabilities.label)
    assert f"| {capabilities.max_images} |" in row
    assert f"{capabilities.max_image_bytes:,} bytes" in row
    assert f"| {capabilities.max_alt_text} characters |" in row
    assert ("GIF" in row.replace("no GIF", "")) == ("image/gif" in capabilities.image_types)
    lengths = _section(format_doc, "How length is counted")
    limit_cell = _row_of(lengths, capabilities.label).split("|")[2]
    assert _mentions(limit_cell, str(capabilities.max_length))


def test_every_yaml_block_is_valid_yaml(format_doc: str) -> None:
    for block in _yaml_blocks(format_doc):
        parsed = parse_yaml(block, "docs")
        assert not parsed.problems, (block, parsed.problems)


def test_the_docs_have_complete_examples(format_doc: str) -> None:
    blocks = _complete_campaigns(format_doc)
    assert blocks, "no complete campaign in docs/campaign-format.md"
    assert blocks[0].startswith("# yaml-language-server: $schema=campaign.schema.json\n")


@pytest.mark.parametrize("number", range(len(_complete_campaigns(FORMAT_DOC.read_text("utf-8")))))
def test_complete_examples_validate(format_doc: str, tmp_path: Path, number: int) -> None:
    block = _complete_campaigns(format_doc)[number]
    for name in re.findall(r"file: (\S+)", block):  # stand-in images, so the plan is complete
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (1200, 675), (255, 140, 0)).save(tmp_path / name)
    file = tmp_path / "campaigns.yaml"
    file.write_text(block, encoding="utf-8")
    result = validate_file(file)
    assert result.ok, "\n".join(map(str, result.problems))
    assert result.plan is not None and result.plan.deliveries


def test_the_first_example_is_as_described(format_doc: str, tmp_path: Path) -> None:
    """The prose after the example quotes its outcome: no warning, 19 deliveries, 2 notices."""
    file = tmp_path / "campaigns.yaml"
    file.write_text(_complete_campaigns(format_doc)[0], encoding="utf-8")
    for name in ("media/day01-orange.png", "media/day03-facts.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.new("RGB", (1200, 675)).save(tmp_path / name)
    result = validate_file(file)
    assert result.plan is not None
    assert [p.severity for p in result.problems] == ["notice", "notice"]
    assert len(result.plan.deliveries) == 19
    assert re.search(r"plans 19\s+deliveries", format_doc)


@pytest.mark.parametrize("number", range(len(_complete_campaigns(FORMAT_DOC.read_text("utf-8")))))
def test_json_schema_accepts_the_examples(format_doc: str, number: int) -> None:
    block = _complete_campaigns(format_doc)[number]
    data = _json_ready(parse_yaml(block, "docs").data)
    validator = jsonschema.Draft202012Validator(
        json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors


def test_json_schema_defaults_are_valid_values() -> None:
    """An editor inserts the schema's defaults; each must pass the schema itself."""
    schema = json_schema()
    for name, definition in schema["$defs"].items():
        for key, prop in definition.get("properties", {}).items():
            if "default" in prop and "pattern" in prop and isinstance(prop["default"], str):
                assert re.search(prop["pattern"], prop["default"]), f"{name}.{key}"


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"{path} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_and_option_is_documented(
    cli_doc: str, path: str, command: click.Command
) -> None:
    section = cli_doc if command is main else _section(cli_doc, f"`{path}`")
    for param in command.params:
        if isinstance(param, click.Option) and param.hidden:
            continue
        if isinstance(param, click.Argument):
            assert _mentions(section, param.human_readable_name), f"{path}: argument"
            continue
        for opt in [*param.opts, *param.secondary_opts]:
            assert _mentions(section, opt), f"{path}: {opt} is not in its section of docs/cli.md"
        if isinstance(param, click.Option) and param.envvar:
            for name in [param.envvar] if isinstance(param.envvar, str) else param.envvar:
                assert name in section, f"{path}: env {name} is not documented"
        if isinstance(param, click.Option) and param.show_default and param.default:
            assert f"`{param.default}`" in section, f"{path}: default of {param.opts[-1]}"


def test_x_price_defaults_agree(cli_doc: str) -> None:
    """The CLI's defaults are the preview's documented ones (views/preview/__init__.py)."""
    preview = dict(COMMANDS)["campaign preview"]
    options = {opt: param for param in preview.params for opt in param.opts}
    pricing = XPricing()
    assert Decimal(options["--x-price-per-post"].default) == pricing.per_post
    assert Decimal(options["--x-price-per-url-post"].default) == pricing.per_url_post
    assert f"`{pricing.per_post}`" in cli_doc
    assert f"`{pricing.per_url_post}`" in cli_doc


def test_exit_codes_are_documented(cli_doc: str) -> None:
    table = _section(cli_doc, "Exit codes")
    for code in (0, EXIT_PROBLEMS, EXIT_USAGE):
        assert f"\n| {code} |" in table


def test_csv_columns_are_documented(cli_doc: str) -> None:
    table = _section(cli_doc, "Output columns")
    missing = [column for column in CSV_COLUMNS if f"| `{column}` |" not in table]
    assert not missing


# --- what the docs claim, checked against the code (issue 10, item 22) -------------------------

ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"
_SHELL_EXAMPLE = re.compile(r"^\$ (campaign [^\n]*)\n((?:(?!\$ )[^\n]+\n)+)", re.MULTILINE)


def _shell_examples(doc: str) -> list[tuple[str, str]]:
    """(command, the output printed under it) for every ``$ campaign ...`` line of a sh block
    that shows its output."""
    return [
        (command, output)
        for lang, body in _FENCE.findall(doc)
        if lang == "sh"
        for command, output in _SHELL_EXAMPLE.findall(body)
    ]


def test_there_are_shell_examples_with_output(cli_doc: str) -> None:
    assert any(command.startswith("campaign validate") for command, _ in _shell_examples(cli_doc))


@pytest.mark.parametrize("number", range(len(_shell_examples(CLI_DOC.read_text("utf-8")))))
def test_shell_examples_print_what_the_docs_show(
    cli_doc: str, number: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run in the repository, on its own campaigns.yaml: the docs quote the real output."""
    command, shown = _shell_examples(cli_doc)[number]
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        main, shlex.split(command)[1:], prog_name="campaign", env={"COLUMNS": "200"}
    )
    assert result.output == shown, f"docs/cli.md: `{command}` prints:\n{result.output}"


def test_every_repeatable_option_says_so() -> None:
    for path, command in COMMANDS:
        for param in command.params:
            if isinstance(param, click.Option) and param.multiple and not param.hidden:
                assert "repeatable" in (param.help or ""), f"{path} {param.opts[0]}"


def test_the_visibility_choices_are_those_the_command_takes(cli_doc: str) -> None:
    from scheduler.campaign.model import Visibility

    row = _row_of(_section(cli_doc, "`campaign queue add`"), "`--visibility`")
    documented = set(re.findall(r"`([a-z]+)`", row.split("|")[2]))
    assert documented == {str(v) for v in Visibility}


def test_the_cli_doc_says_which_commands_act_on_the_platforms(cli_doc: str) -> None:
    intro = cli_doc[: cli_doc.index("\n## ")]
    assert "Nothing is ever sent" not in intro
    for command in ("campaign run", "campaign retract"):
        assert f"`{command}`" in intro


def test_the_architecture_names_only_modules_that_exist() -> None:
    doc = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    named = re.findall(r"^\| `((?:scheduler|adapters)/[^`]*)`", doc, re.MULTILINE)
    assert named
    for path in named:
        assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"
    diagram = next(body for lang, body in _FENCE.findall(doc) if lang == "")
    layers = re.findall(r"^((?:scheduler|adapters)/[\w/.]*)", diagram, re.MULTILINE)
    assert len(layers) >= 8, layers
    for layer in layers:
        assert (ROOT / layer).exists(), f"the layer diagram names {layer}, which does not exist"


def test_the_architecture_lists_every_service_function() -> None:
    import importlib
    import inspect
    import pkgutil

    import scheduler.service

    doc = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    missing = []
    for info in pkgutil.iter_modules(scheduler.service.__path__):
        module = importlib.import_module(f"scheduler.service.{info.name}")
        row = _row_of(doc, f"`scheduler/service/{info.name}.py`")
        missing += [
            f"{info.name}.{name}"
            for name, value in inspect.getmembers(module, inspect.isfunction)
            if value.__module__ == module.__name__
            and not name.startswith("_")
            and f"`{name}()`" not in row
        ]
    assert not missing, f"docs/architecture.md: service functions not listed: {missing}"
