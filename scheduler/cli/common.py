"""What every command shares: the group that turns errors into messages, output helpers."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from scheduler.errors import (
    CampaignError,
    CampaignFileError,
    ConfigurationError,
    NoSuchDatabase,
    UsageError,
)
from scheduler.problems import Problem, Severity
from scheduler.problems import summarize as count_problems

EXIT_PROBLEMS = 1
EXIT_USAGE = 2

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}

# The loader, not click, refuses a folder or an unreadable file: as a problem of the file, with
# its documented code (file-not-found, file-unreadable) and exit 1, not as a usage error.
CampaignPath = click.Path(path_type=Path, readable=False)


class CampaignGroup(click.Group):
    """Turns our errors into messages and exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignFileError as exc:
            # A file's notices are listed by `campaign validate --verbose`; those of a post given
            # on the command line (`campaign queue`) have no other place: shown here.
            print_problems(exc.problems, verbose=not Path(exc.file).is_file())
            fail(f"{exc.file}: {count_problems(exc.problems)}", EXIT_PROBLEMS)
        except (UsageError, NoSuchDatabase) as exc:
            fail(f"error: {exc}", EXIT_USAGE)
        except CampaignError as exc:
            fail(f"error: {exc}", EXIT_PROBLEMS)


def fail(message: str, code: int) -> NoReturn:
    click.secho(printable(message), fg="red", err=True)
    sys.exit(code)


_UNPRINTABLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """One line that a terminal shows as written: a key spelled "\\r" or "\\e[2J" in a campaign
    file is quoted back as that escape, instead of breaking the line or clearing the screen."""
    return _UNPRINTABLE.sub(lambda found: found[0].encode("unicode_escape").decode(), text)


@click.group(cls=CampaignGroup)
@click.version_option(package_name="campaign-scheduler")
def main() -> None:
    """Plan, check, preview and send coordinated social-media campaigns."""


def ask(label: str, *, hide: bool) -> str:
    """A line typed at a prompt (hidden with ``hide``), or read from a pipe."""
    if hide and not sys.stdin.isatty():
        # Hiding needs a terminal: getpass would print Python's GetPassWarning. From a pipe
        # nothing is echoed anyway; the secret is read as one line, and never printed.
        while True:
            click.echo(f"{label}: ", nl=False, err=True)
            line = sys.stdin.readline()
            click.echo(err=True)
            if not line:
                raise click.Abort
            if line.strip():
                return line.rstrip("\r\n")
    return str(click.prompt(label, hide_input=hide, err=True))


def opened_database(database: str | None) -> contextlib.closing[Any]:
    """The existing database of a command, closed when its block ends."""
    from scheduler.service.databases import open_existing  # the store, only when it runs

    return contextlib.closing(open_existing(database))


FILE_NOTICES_HINT = "`campaign validate --verbose` lists them"


def print_problems(
    problems: list[Problem], verbose: bool, hint: str | None = FILE_NOTICES_HINT
) -> None:
    """Errors, warnings and (with ``verbose``) notices; ``hint`` says how to see those hidden,
    only where there is a way: `queue add` has no option for it."""
    hidden = 0
    for problem in problems:
        if problem.severity is Severity.NOTICE and not verbose:
            hidden += 1
            continue
        click.secho(printable(str(problem)), fg=_COLOURS[problem.severity])
    if hidden:
        shown = f"{hidden} notice{'s' * (hidden != 1)} not shown"
        click.echo(f"({shown}; {hint})" if hint else f"({shown})")


def write_output(text: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output`` atomically: never a half-written file."""
    write_chunks([text], output)


_BATCH = 1 << 20
"""Characters gathered before a write: few writes, and never the whole output in memory."""


def write_chunks(chunks: Iterable[str], output: Path | None) -> None:
    """:func:`write_output` for an output made a piece at a time, which is never held whole."""
    if output is None:
        for batch in _batches(chunks):
            click.echo(batch, nl=False)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            for batch in _batches(chunks):
                out.write(batch)
        partial.replace(output)
    except OSError as exc:
        with contextlib.suppress(OSError):  # a failed write or rename leaves no .partial behind
            partial.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {output}", err=True)


def _batches(chunks: Iterable[str]) -> Iterator[str]:
    pending: list[str] = []
    size = 0
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= _BATCH:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending)


@contextlib.contextmanager
def progress_steps(title: str) -> Iterator[Callable[[str], None] | None]:
    """On a terminal, a spinner on standard error naming the step under way and the time spent,
    gone once the work is done; when standard error is not a terminal (a pipe, a log, a
    script), nothing at all: the callable is None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # only a terminal pays for rich
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(title)

        def step(what: str) -> None:
            progress.update(task, description=f"{title}: {what}", refresh=True)

        yield step
