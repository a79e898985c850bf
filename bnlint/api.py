"""The Python API: lint a string or paths and get findings back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bnlint.config import CliOverrides, ConfigResolver
from bnlint.diagnostics import Finding
from bnlint.discovery import discover
from bnlint.runner import LintOptions, lint_bytes, lint_path


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
    settings = ConfigResolver(overrides, None).settings_for(Path.cwd() / "__init__.py")
    file_settings = settings.for_file(None)
    if min_batch_size is not None:
        from dataclasses import replace

        file_settings = replace(file_settings, min_batch_size=min_batch_size)
    return lint_bytes(source.encode("utf-8"), filename, file_settings).findings


def check_paths(
    paths: Iterable[str | Path], *, select: Iterable[str] | None = None
) -> list[Finding]:
    """Lint files and directories as `bnlint check` would (config files included)."""
    resolver = ConfigResolver(CliOverrides(select=list(select) if select is not None else None))
    findings: list[Finding] = []
    for item in discover([str(p) for p in paths], resolver):
        settings = resolver.settings_for(item.path).for_file(item.path)
        findings.extend(lint_path(item.path, item.display, settings, LintOptions()).findings)
    return findings
