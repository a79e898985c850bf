"""Run the `bnlint` command in-process, from a chosen directory, with a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from bnlint.cli import main

# Colour settings of the developer's shell must not leak into the outputs compared here.
_CLEARED = {"NO_COLOR": None, "FORCE_COLOR": None}


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_bnlint(
    args: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes | str | None = None,
) -> CliResult:
    """`bnlint ARGS` in `cwd`; an unexpected exception is re-raised, not swallowed."""
    runner = CliRunner()
    environment: dict[str, str | None] = {**_CLEARED, **(env or {})}
    with working_directory(cwd):
        result = runner.invoke(
            main, list(args), input=stdin, env=environment, catch_exceptions=True
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)
