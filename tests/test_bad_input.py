"""Broken campaign files, one per kind of mistake, each with the problems it must produce.

Every file in tests/bad/ starts with comment lines such as::

    # expect: error 14:9 unknown-key posts[0].txet "did you mean 'text'"

(severity, line:column, code, field path, and a piece of the message or of what was expected).
`campaign validate` must report exactly those errors and warnings, at those places, in one run,
with a clean exit code and never a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler.cli import main

BAD = Path(__file__).resolve().parent / "bad"
CORPUS = sorted(BAD.glob("*.yaml"))

_EXPECT = re.compile(
    r"^# expect: (?P<severity>error|warning) (?P<line>\d+):(?P<column>\d+) "
    r'(?P<code>[a-z-]+) (?P<path>\(top level\)|\S+) "(?P<substring>.+)"$'
)


@dataclass(frozen=True)
class Expected:
    severity: str
    line: int
    column: int
    code: str
    path: str
    substring: str

    def prefix(self, file: Path) -> str:
        """How a text report line starts for this problem."""
        return f"{file}:{self.line}:{self.column}: {self.severity}: {self.path}: "


def expectations(file: Path) -> list[Expected]:
    found = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            match = _EXPECT.match(line)
            assert match, f"{file.name}: malformed expectation: {line}"
            fields = match.groupdict()
            found.append(
                Expected(
                    fields["severity"],
                    int(fields["line"]),
                    int(fields["column"]),
                    fields["code"],
                    fields["path"],
                    fields["substring"],
                )
            )
    return found


def validate(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def assert_clean_exit(result: Result, expected_code: int) -> None:
    """The exit code we promise, with no exception escaping and no traceback printed."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == expected_code, result.output


def reported_lines(result: Result) -> list[str]:
    """The problem lines of a text report (not the summary or the hidden-notices note)."""
    return [
        line for line in result.output.splitlines() if ": error: " in line or ": warning: " in line
    ]


def test_corpus_has_one_file_per_kind_of_mistake() -> None:
    assert len(CORPUS) >= 30
    for file in CORPUS:
        assert expectations(file), f"{file.name} states no expected problem"


@pytest.mark.parametrize("file", CORPUS, ids=lambda file: file.stem)
def test_text_report_names_each_expected_problem(file: Path) -> None:
    expected = expectations(file)
    result = validate(str(file))
    has_error = any(item.severity == "error" for item in expected)
    assert_clean_exit(result, 1 if has_error else 0)
    lines = reported_lines(result)
    for item in expected:
        matching = [line for line in lines if line.startswith(item.prefix(file))]
        assert matching, f"no problem reported at {item.prefix(file)}\n{result.output}"
        assert any(item.substring in line for line in matching), (item.substring, matching)
    # Only the expected problems: each file is otherwise valid.
    assert len(lines) == len(expected), result.output
    assert all(line.startswith(f"{file}:") for line in lines)
    assert result.output.splitlines()[-1].startswith(f"{file}: ")


@pytest.mark.parametrize("file", CORPUS, ids=lambda file: file.stem)
def test_json_report_has_the_same_problems(file: Path) -> None:
    expected = expectations(file)
    result = validate("--json", str(file))
    assert_clean_exit(result, 1 if any(e.severity == "error" for e in expected) else 0)
    report = json.loads(result.output)
    assert report["file"] == str(file)
    assert report["ok"] is not any(item.severity == "error" for item in expected)
    problems = [p for p in report["problems"] if p["severity"] != "notice"]
    assert len(problems) == len(expected), problems
    for item in expected:
        assert any(_json_matches(problem, item, file) for problem in problems), (item, problems)


def _json_matches(problem: dict[str, Any], item: Expected, file: Path) -> bool:
    return (
        problem["file"] == str(file)
        and (problem["severity"], problem["line"], problem["column"])
        == (item.severity, item.line, item.column)
        and (problem["code"], problem["path"]) == (item.code, item.path)
        and item.substring in f"{problem['message']}; expected {problem['expected']}"
    )


_REPORT_LINE = re.compile(r"^(?P<where>.+:\d+:\d+): (error|warning): (?P<path>\(top level\)|\S+): ")


@pytest.mark.parametrize("name", ["many-mistakes", "many-structure-mistakes"])
def test_many_mistakes_are_all_reported_in_one_run(name: str) -> None:
    file = BAD / f"{name}.yaml"
    expected = {(f"{file}:{e.line}:{e.column}", e.path) for e in expectations(file)}
    assert len(expected) >= 7
    text = validate(str(file))
    assert_clean_exit(text, 1)
    assert text.output.splitlines()[-1] == f"{file}: {len(expected)} errors, 0 warnings, 0 notices"
    from_text = set()
    for line in reported_lines(text):
        match = _REPORT_LINE.match(line)
        assert match, line
        from_text.add((match["where"], match["path"]))
    report = json.loads(validate("--json", str(file)).output)
    assert (report["ok"], report["deliveries"]) == (False, None)
    from_json = set()
    for problem in report["problems"]:
        for field in ("file", "line", "column", "path", "code", "message", "expected"):
            assert problem[field], (field, problem)
        from_json.add((f"{problem['file']}:{problem['line']}:{problem['column']}", problem["path"]))
    assert from_text == from_json == expected


def test_errors_come_before_warnings(tmp_path: Path) -> None:
    file = tmp_path / "campaign.yaml"
    text = (BAD / "invalid-time-zone.yaml").read_text(encoding="utf-8")
    hashtags = '  end: 2026-12-10\n  hashtags: ["#orangetheworld"]\n'
    file.write_text(text.replace("  end: 2026-12-10\n", hashtags), encoding="utf-8")
    lines = reported_lines(validate(str(file)))
    assert [": error: " in line for line in lines] == [True, False], lines


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    file = tmp_path / "nowhere.yaml"
    result = validate(str(file))
    assert_clean_exit(result, 1)
    assert f"{file}: error: (top level): no such file" in result.output


def test_folder_is_a_clean_error(tmp_path: Path) -> None:
    result = validate(str(tmp_path))
    assert "Traceback" not in result.output
    assert result.exit_code != 0
    assert str(tmp_path.name) in result.output


def test_file_not_in_utf8_is_a_clean_error(tmp_path: Path) -> None:
    file = tmp_path / "latin1.yaml"
    text = (BAD / "invalid-id.yaml").read_text(encoding="utf-8").replace("Japan", "Japón")
    file.write_bytes(text.encode("latin-1"))
    result = validate(str(file))
    assert_clean_exit(result, 1)
    assert "is not UTF-8 (byte " in result.output
    line = text[: text.index("Japón")].count("\n") + 1
    column = len(text.splitlines()[line - 1].split("Japón")[0]) + len("Jap") + 1
    assert f"{file}:{line}:{column}: error: (top level): the byte 0xF3 here is not UTF-8" in (
        result.output
    )


def _documented_token_prefixes() -> list[str]:
    """The API token prefixes docs/campaign-format.md lists, in its "Secrets" section."""
    docs = (BAD.parent.parent / "docs" / "campaign-format.md").read_text(encoding="utf-8")
    section = docs.split("## Secrets never go in the file", 1)[1].split("\n## ", 1)[0]
    listed = section.split("an API token starting with one of", 1)[1].split("an AWS", 1)[0]
    return re.findall(r"`([^`]+)`", listed)


def test_the_documented_token_prefixes_are_the_ones_checked() -> None:
    from scheduler.problems import API_TOKEN_PREFIXES

    assert _documented_token_prefixes() == list(API_TOKEN_PREFIXES)


_TOKEN_TAIL = "1234567890-AbCdEfGhIjKlMnOp"


@pytest.mark.parametrize(
    "token",
    [prefix + _TOKEN_TAIL for prefix in _documented_token_prefixes()]
    + ["AKIAABCDEFGHIJKLMNOP", "AIza" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345678"],
)
@pytest.mark.parametrize("where", ["credentials", "text"])
def test_each_documented_token_shape_is_refused_and_never_printed(
    tmp_path: Path, token: str, where: str
) -> None:
    text = (BAD / "image-missing.yaml").read_text(encoding="utf-8").split("    images:")[0]
    if where == "credentials":
        text = text.replace("credentials: be-tokyo-x", f"credentials: {token}")
    else:
        text = text.replace('"The {embassy} joins the campaign."', token)
    file = tmp_path / "campaign.yaml"
    file.write_text(text, encoding="utf-8")
    for args in ([str(file)], ["--json", str(file)]):
        result = validate(*args)
        assert_clean_exit(result, 1)
        assert "secret-in-file" in result.output or ": error: " in result.output
        assert "looks like" in result.output, result.output
        assert token not in result.output and token[8:] not in result.output, result.output


def _campaign_with_image(folder: Path, image: str = "media/card.png") -> Path:
    text = (BAD / "image-missing.yaml").read_text(encoding="utf-8")
    file = folder / "campaign.yaml"
    file.write_text(text.replace("media/missing.png", image), encoding="utf-8")
    return file


def test_a_media_folder_linked_from_a_shared_drive_is_inside(tmp_path: Path) -> None:
    shared = tmp_path / "shared-drive" / "cards"
    shared.mkdir(parents=True)
    (shared / "card.png").write_bytes((BAD / "media" / "card.png").read_bytes())
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "media").symlink_to(shared)
    result = validate(str(_campaign_with_image(folder)))
    assert_clean_exit(result, 0)
    assert "0 errors, 0 warnings, 0 notices, 1 deliveries planned" in result.output


def test_a_missing_image_behind_a_link_says_where_the_link_points(tmp_path: Path) -> None:
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "media").symlink_to(tmp_path / "unmounted-drive")
    file = _campaign_with_image(folder)
    result = validate(str(file))
    assert_clean_exit(result, 1)
    assert f"{file}:23:15: error: posts[0].images[0].file: 'media/card.png' does not exist in " in (
        result.output
    )
    assert f"(media is a link to {tmp_path / 'unmounted-drive'})" in result.output


def test_a_path_out_of_the_folder_stays_refused_whatever_the_links(tmp_path: Path) -> None:
    folder = tmp_path / "campaign"
    (folder / "media").mkdir(parents=True)
    (tmp_path / "card.png").write_bytes((BAD / "media" / "card.png").read_bytes())
    file = _campaign_with_image(folder, "media/../../card.png")
    result = validate(str(file))
    assert_clean_exit(result, 1)
    assert "media-path" in validate("--json", str(file)).output
    assert "leaves the campaign's folder" in result.output
