"""`bnlint check`: discovery, linting, fixing and reporting, with one exit status."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bnlint import __version__
from bnlint.baseline import BaselineError, use_baseline
from bnlint.cache import Cache, settings_key
from bnlint.catalog import RULES
from bnlint.cli import ExitStatus, _codes, _use_color, statistics_table
from bnlint.config import CliOverrides, ConfigError, ConfigResolver
from bnlint.diagnostics import Finding
from bnlint.discovery import Discovered, MissingPath, discover
from bnlint.fixes import ConcurrentModification, digest, unified_diff, write_atomic
from bnlint.progress import ProgressBar
from bnlint.report import RunReport, render
from bnlint.runner import (
    FileResult,
    Job,
    LintOptions,
    build_project,
    default_workers,
    lint_bytes,
    lint_many,
    tune_gc,
)
from bnlint.source import SourceText


def _error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


def run_check(
    paths: tuple[str, ...],
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    output_format: str,
    output: str | None,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    exit_zero: bool,
    statistics: bool,
    config_file: str | None,
    no_cache: bool,
    jobs: int | None,
    stdin_filename: str | None,
    quiet: bool,
    probe_report: tuple[str, ...] = (),
    baseline: str | None = None,
    write_baseline: bool = False,
    **_: Any,
) -> ExitStatus:
    overrides = CliOverrides(
        select=_codes(select),
        extend_select=_codes(extend_select) or [],
        ignore=_codes(ignore) or [],
    )
    try:
        resolver = ConfigResolver(overrides, Path(config_file) if config_file else None)
    except ConfigError as error:
        _error(str(error))
        return ExitStatus.ERROR
    options = LintOptions(fix=fix or diff, unsafe_fixes=unsafe_fixes)
    targets = list(paths) or ["."]
    results: list[FileResult] = []
    originals: dict[str, tuple[Path, bytes]] = {}
    stdin_text = ""
    try:
        if targets == ["-"]:
            stdin_result, stdin_text = _lint_stdin(resolver, stdin_filename, options)
            results.append(stdin_result)
        else:
            discovered = list(discover(targets, resolver))
            if not discovered:
                click.echo("warning: no Python files found under the given paths", err=True)
            caches: dict[str, Cache | None] = {}
            jobs_list = []
            workers = jobs or default_workers()
            all_settings = [
                resolver.settings_for(item.path).for_file(item.path) for item in discovered
            ]
            tune_gc()  # a process-wide setting: the command's own, not the library's
            project = _project(discovered, all_settings, workers, no_cache)
            # Findings of the mode rules also depend on the other files (the project index).
            project_digest = _project_digest(project)
            for item, settings in zip(discovered, all_settings, strict=True):
                key = settings_key(settings, options, project_digest)
                if not no_cache and key not in caches:
                    caches[key] = Cache.open(Path.cwd(), key)
                jobs_list.append(Job(item.path, item.display, settings, caches.get(key)))
            with ProgressBar(len(jobs_list), enabled=not quiet) as progress:
                results = lint_many(jobs_list, options, workers, progress, project)
            if fix or diff:
                originals = _originals(discovered, results)
    except MissingPath as error:
        _error(f"path `{error}` does not exist")
        return ExitStatus.ERROR
    except ConfigError as error:
        _error(str(error))
        return ExitStatus.ERROR

    had_error = False
    if results and all(result.unreadable for result in results):
        # Nothing could be linted at all: a finding would pass for a result.
        _error("no file could be read")
        had_error = True
    for result in results:
        if result.error:
            _error(result.error)
            had_error = True
        if result.notice:
            click.echo(f"warning: {result.filename}: {result.notice}", err=True)

    pending_diff = False
    if targets == ["-"] and (fix or diff) and results and results[0].fixed_text is not None:
        if diff:
            sys.stdout.write(unified_diff(results[0].filename, stdin_text, results[0].fixed_text))
            pending_diff = True
        else:
            sys.stdout.write(results[0].fixed_text)
    elif diff:
        for result in results:
            if result.fixed_text is not None and result.source is not None:
                before = originals[result.filename][1].decode(
                    result.source.encoding, errors="replace"
                )
                before = before.removeprefix("\ufeff")
                sys.stdout.write(unified_diff(result.filename, before, result.fixed_text))
                pending_diff = True
    elif fix:
        for result in results:
            if result.fixed_text is None or result.source is None:
                continue
            path, data = originals[result.filename]
            try:
                write_atomic(path, result.source.encode(result.fixed_text), digest(data))
            except ConcurrentModification:
                _error(f"{result.filename} changed while bnlint was fixing it; not written")
                had_error = True
            except OSError as error:
                _error(f"cannot write {result.filename}: {error.strerror or error}")
                had_error = True

    findings = [finding for result in results for finding in result.findings]
    if probe_report:
        from bnlint.confirm import mark_confirmed

        findings = mark_confirmed(findings, probe_report)
    if baseline and not diff:
        try:
            findings = _apply_baseline(Path(baseline), write_baseline, findings, results, quiet)
        except BaselineError as error:
            _error(str(error))
            return ExitStatus.ERROR
    if diff:
        return _exit(
            ExitStatus.FINDINGS if pending_diff and not exit_zero else ExitStatus.CLEAN, had_error
        )

    report = RunReport(
        findings=findings,
        sources={r.filename: r.source for r in results if r.source is not None and r.findings},
        cell_sources={
            (r.filename, number): text
            for r in results
            if r.findings
            for number, text in r.cell_sources.items()
        },
        files_checked=len(results),
        fixes_applied=0 if targets == ["-"] else sum(r.fixes_applied for r in results),
        color=output_format == "text" and _use_color(output),
        rules={code: (info.name, info.summary, info.severity) for code, info in RULES.items()},
        version=__version__,
        quiet=quiet,
    )
    text = statistics_table(findings) if statistics else render(output_format, report)
    target_stream = sys.stderr if targets == ["-"] and fix else sys.stdout
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            _error(f"cannot write {output}: {error.strerror or error}")
            return ExitStatus.ERROR
    else:
        target_stream.write(text)
    status = ExitStatus.FINDINGS if findings and not exit_zero else ExitStatus.CLEAN
    return _exit(status, had_error)


# Rules whose analyses read the cross-file project index (classes, function summaries).
_PROJECT_RULES = frozenset({"BN101", "BN102", "BN103", "BN104", "BN202"})
# The cache folder of per-file project-index summaries (beside the settings-keyed ones).
_INDEX_CACHE = "project-index"


def _project(
    discovered: list[Discovered], settings: list[Any], workers: int, no_cache: bool
) -> object:
    if len(discovered) < 2 or not any(s.enabled & _PROJECT_RULES for s in settings):
        return None
    summaries = None if no_cache else Cache.open(Path.cwd(), _INDEX_CACHE)
    return build_project(
        [(item.path, item.display) for item in discovered],
        workers,
        summaries.folder if summaries is not None else None,
    )


def _project_digest(project: object) -> str:
    digest = getattr(project, "digest", None)
    return digest() if callable(digest) else ""


def _apply_baseline(
    path: Path, write: bool, findings: list[Finding], results: list[FileResult], quiet: bool
) -> list[Finding]:
    sources = {r.filename: r.source for r in results if r.source is not None}
    cells = {(r.filename, n): text for r in results for n, text in r.cell_sources.items()}

    def source_of(finding: Finding) -> SourceText | None:
        if finding.cell is not None:
            return cells.get((finding.filename, finding.cell))
        return sources.get(finding.filename)

    outcome = use_baseline(path, findings, source_of, write=write)
    if not quiet:
        click.echo(f"bnlint: {outcome.note}", err=True)
    return outcome.findings


def _exit(status: ExitStatus, had_error: bool) -> ExitStatus:
    return ExitStatus.ERROR if had_error else status


def _lint_stdin(
    resolver: ConfigResolver, stdin_filename: str | None, options: LintOptions
) -> tuple[FileResult, str]:
    data = sys.stdin.buffer.read()
    original = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    name = stdin_filename or "-"
    path = Path(stdin_filename) if stdin_filename else Path.cwd() / "-"
    settings = resolver.settings_for(path.absolute()).for_file(path.absolute())
    return lint_bytes(data, name, settings, options), original


def _originals(
    discovered: list[Discovered], results: list[FileResult]
) -> dict[str, tuple[Path, bytes]]:
    by_name = {item.display: item.path for item in discovered}
    originals: dict[str, tuple[Path, bytes]] = {}
    for result in results:
        if result.fixed_text is not None:
            path = by_name[result.filename]
            # The bytes the fixes were computed from: a file changed since is not overwritten.
            data = result.original if result.original is not None else path.read_bytes()
            originals[result.filename] = (path, data)
    return originals
