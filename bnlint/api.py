"""The Python API: lint a string or paths and get findings back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bnlint.config import CliOverrides, ConfigResolver
from bnlint.diagnostics import Finding
from bnlint.engine import LintSession


def check_source(
    source: str,
    filename: str = "<string>",
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    min_batch_size: int | None = None,
) -> list[Finding]:
    """Lint Python source text and return the findings left after `# noqa`.

    >>> check_source("model.eval\\n")[0].code
    'BN105'
    """
    overrides = CliOverrides(
        select=list(select) if select is not None else None, ignore=list(ignore)
    )
    session = LintSession(ConfigResolver(overrides, None), use_cache=False, workers=1)
    if min_batch_size is None:
        return session.lint_data(source.encode("utf-8"), filename, Path.cwd() / "-").findings
    from bnlint.engine.files import lint_bytes

    settings = replace(session.settings_for(Path.cwd() / "-"), min_batch_size=min_batch_size)
    return lint_bytes(source.encode("utf-8"), filename, settings).findings


def check_paths(
    paths: Iterable[str | Path], *, select: Iterable[str] | None = None
) -> list[Finding]:
    """Lint files and directories as `bnlint check` would: configuration files, and the
    project index that lets a finding in one file depend on the others."""
    resolver = ConfigResolver(CliOverrides(select=list(select) if select is not None else None))
    session = LintSession(resolver, use_cache=False, workers=1)
    run = session.run([str(path) for path in paths])
    return [finding for result in run.files for finding in result.findings]
