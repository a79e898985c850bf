"""`bnlint check`: options in, one exit status out; the linting itself is the engine's.

Each step is one function: configure, lint (a `LintSession`), tell the user about files
that could not be linted, write or show fixes, pick the findings to report, render, exit.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import click

from bnlint._version import __version__
from bnlint.cache import remove_cache
from bnlint.catalog import RULES
from bnlint.config import (
    CliOverrides,
    ConfigError,
    ConfigResolver,
    parse_config_arguments,
    repository_root,
)
from bnlint.diagnostics import Finding
from bnlint.discovery import PathError
from bnlint.engine import ExitStatus, FileResult, LintOptions, LintSession, RunResult
from bnlint.engine.session import original_text
from bnlint.engine.workers import tune_gc
from bnlint.fixes import unified_diff, write_atomic
from bnlint.report import RunReport, render
from bnlint.source import SourceText


@dataclass(frozen=True)
class CheckOptions:
    """The `check` command's options, as click passes them (one field per option)."""

    paths: tuple[str, ...] = ()
    select: str | None = None
    extend_select: str | None = None
    ignore: str | None = None
    # None: not given on the command line, so the project's configuration decides.
    output_format: str | None = None
    output: str | None = None
    fix: bool | None = None
    unsafe_fixes: bool | None = None
    diff: bool = False
    exit_zero: bool = False
    statistics: bool = False
    # `--config` values: a configuration file and/or `KEY = VALUE` TOML fragments.
    config_file: tuple[str, ...] = ()
    show_settings: bool = False
    # Comma-separated lists that override the configuration's keys of the same names.
    exclude: str | None = None
    extend_exclude: str | None = None
    fixable: str | None = None
    unfixable: str | None = None
    isolated: bool = False
    no_cache: bool = False
    cache_dir: str | None = None
    force_exclude: bool = False
    show_files: bool = False
    add_noqa: bool = False
    jobs: int | None = None
    stdin_filename: str | None = None
    quiet: bool = False
    probe_report: tuple[str, ...] = ()
    baseline: str | None = None
    write_baseline: bool = False
    verbose: bool = False

    @classmethod
    def from_click(cls, options: dict[str, Any]) -> CheckOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in options.items() if name in known})

    @property
    def targets(self) -> list[str]:
        return list(self.paths) or ["."]

    @property
    def from_stdin(self) -> bool:
        return self.targets == ["-"]


def split_codes(value: str | None) -> list[str] | None:
    """`"BN1, BN401"` -> `["BN1", "BN401"]`; None when the option was not given."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def use_color(output: str | None) -> bool:
    # FORCE_COLOR is for terminals that do not look like one (CI logs), not for report files.
    if output is not None or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _error(message: str) -> None:
    click.echo(f"error: {message}", err=True)


class _Failed(Exception):
    """A problem that ends the command with exit 2; the message is printed as `error:`."""


def run_check(**given: Any) -> ExitStatus:
    options = CheckOptions.from_click(given)
    try:
        return _check(options)
    except _Failed as error:
        _error(str(error))
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        # Files and the report are written whole or not at all (atomic renames), so
        # stopping here leaves nothing half-written.
        click.echo("bnlint: interrupted", err=True)
        return ExitStatus.INTERRUPTED
    except Exception as error:
        # A bug outside the per-file linting (which reports its own as errors): exit 1
        # would read as "findings", so it is 2, and a traceback only when asked for.
        internal_error(error, verbose=options.verbose)
        return ExitStatus.ERROR


def internal_error(error: BaseException, *, verbose: bool) -> None:
    """Tell the user bnlint failed, not their code: the error, and how to see more."""
    _error(f"internal error: {type(error).__name__}: {error}")
    if verbose:
        click.echo(
            "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip(),
            err=True,
        )
    else:
        click.echo(
            "bnlint failed, not the linted code; rerun with --verbose for the traceback"
            " and include it when reporting the problem",
            err=True,
        )


def _check(options: CheckOptions) -> ExitStatus:
    resolver = _resolver(options)
    options = _with_project_defaults(options, resolver)
    if options.show_settings:
        target = Path(options.targets[0]) if not options.from_stdin else Path.cwd()
        sys.stdout.write(resolver.settings_for(target.absolute()).describe())
        return ExitStatus.CLEAN
    session = _session(options, resolver)
    if options.show_files:
        return _show_files(session, options)
    run, stdin_text = _lint(session, options)
    if options.add_noqa:
        return _exit(_add_noqa(session, run), _tell_problems(run.files))
    had_error = _tell_problems(run.files)
    if options.fix or options.diff:
        pending, fix_errors = _apply_fixes(session, run, options, stdin_text)
        had_error = had_error or fix_errors
        if options.diff:
            return _exit(
                ExitStatus.FINDINGS if pending and not options.exit_zero else ExitStatus.CLEAN,
                had_error,
            )
    findings = _reported_findings(run.files, options)
    _write_report(_render(findings, run, options), options)
    status = ExitStatus.FINDINGS if findings and not options.exit_zero else ExitStatus.CLEAN
    return _exit(status, had_error)


def _resolver(options: CheckOptions) -> ConfigResolver:
    try:
        config_file, table = parse_config_arguments(options.config_file)
        for key in ("exclude", "extend-exclude", "fixable", "unfixable"):
            items = split_codes(getattr(options, key.replace("-", "_")))
            if items is not None:
                table[key] = items
        overrides = CliOverrides(
            select=split_codes(options.select),
            extend_select=split_codes(options.extend_select) or [],
            ignore=split_codes(options.ignore) or [],
            table=table,
            isolated=options.isolated,
        )
        return ConfigResolver(overrides, config_file)
    except ConfigError as error:
        raise _Failed(str(error)) from None


def _with_project_defaults(options: CheckOptions, resolver: ConfigResolver) -> CheckOptions:
    """`fix`, `unsafe-fixes` and `output-format` from the project's configuration where the
    command line did not say (`--no-fix` and `--fix` both say)."""
    try:
        project = resolver.project_settings()
    except ConfigError as error:
        raise _Failed(str(error)) from None
    return replace(
        options,
        fix=options.fix if options.fix is not None else bool(project.fix),
        unsafe_fixes=(
            options.unsafe_fixes if options.unsafe_fixes is not None else bool(project.unsafe_fixes)
        ),
        output_format=options.output_format or project.output_format or "text",
    )


def _session(options: CheckOptions, resolver: ConfigResolver) -> LintSession:
    return LintSession(
        resolver,
        LintOptions(fix=bool(options.fix or options.diff), unsafe_fixes=bool(options.unsafe_fixes)),
        use_cache=not options.no_cache,
        cache_dir=Path(options.cache_dir) if options.cache_dir else None,
        workers=options.jobs,
        force_exclude=options.force_exclude,
    )


def _show_files(session: LintSession, options: CheckOptions) -> ExitStatus:
    """`--show-files`: the files a run would lint, one per line, nothing linted."""
    try:
        discovered = session.discover(options.targets)
    except PathError as error:
        raise _Failed(str(error)) from None
    except ConfigError as error:
        raise _Failed(str(error)) from None
    for item in sorted(discovered, key=lambda item: item.display):
        click.echo(item.display)
    return ExitStatus.CLEAN


def _add_noqa(session: LintSession, run: RunResult) -> ExitStatus:
    """`--add-noqa`: a `# noqa: CODE` on the first line of every finding, written in place."""
    added, errors = session.add_noqa(run)
    for message in errors:
        _error(message)
    noun = "directive" if added == 1 else "directives"
    click.echo(f"Added {added} noqa {noun}.", err=True)
    return ExitStatus.ERROR if errors else ExitStatus.CLEAN


def clean_cache(cache_dir: str | None) -> ExitStatus:
    """`bnlint clean`: remove the cache folder `bnlint check` uses from here."""
    try:
        resolver = ConfigResolver(CliOverrides())
    except ConfigError as error:
        _error(str(error))
        return ExitStatus.ERROR
    session = LintSession(resolver, cache_dir=Path(cache_dir) if cache_dir else None)
    folder = session.cache_folder(Path.cwd() / "__init__.py")
    try:
        removed = remove_cache(folder)
    except OSError as error:
        _error(f"cannot remove {folder}: {error.strerror or error}")
        return ExitStatus.ERROR
    click.echo(f"Removed {folder}" if removed else f"No cache at {folder}", err=True)
    return ExitStatus.CLEAN


def _lint(session: LintSession, options: CheckOptions) -> tuple[RunResult, str]:
    """Every file's result, and the text read from standard input (if that was linted)."""
    try:
        if options.from_stdin:
            data = sys.stdin.buffer.read()
            name = options.stdin_filename or "-"
            path = Path(options.stdin_filename) if options.stdin_filename else Path.cwd() / "-"
            text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
            return RunResult([session.lint_data(data, name, path)]), text
        tune_gc()  # a process-wide setting: the command's own, not the library's
        run = session.run(options.targets, show_progress=not options.quiet)
    except PathError as error:
        raise _Failed(str(error)) from None
    except ConfigError as error:
        raise _Failed(str(error)) from None
    if not run.discovered:
        click.echo("warning: no Python files found under the given paths", err=True)
    return run, ""


def _tell_problems(results: Sequence[FileResult]) -> bool:
    """Print internal errors and notices; whether the run must exit 2."""
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
    return had_error


def _apply_fixes(
    session: LintSession, run: RunResult, options: CheckOptions, stdin_text: str
) -> tuple[bool, bool]:
    """Write, print or diff the fixed texts: (whether a diff was printed, whether it failed)."""
    fixed = [r for r in run.files if r.fixed_text is not None and r.source is not None]
    if options.from_stdin:
        for result in fixed:
            assert result.fixed_text is not None
            if options.diff:
                sys.stdout.write(unified_diff(result.filename, stdin_text, result.fixed_text))
            else:
                sys.stdout.write(result.fixed_text)
        if options.diff:
            _would_fix(run)
        return bool(fixed), False
    if options.diff:
        for result in fixed:
            assert result.fixed_text is not None
            before = original_text(run, result)
            sys.stdout.write(unified_diff(result.filename, before, result.fixed_text))
        _would_fix(run)
        return bool(fixed), False
    errors = session.write_fixes(run)
    for message in errors:
        _error(message)
    return False, bool(errors)


def _would_fix(run: RunResult) -> None:
    count = run.fixes_applied
    if count:
        noun = "finding" if count == 1 else "findings"
        click.echo(f"Would fix {count} {noun}.", err=True)


def _reported_findings(results: Sequence[FileResult], options: CheckOptions) -> list[Finding]:
    findings = [finding for result in results for finding in result.findings]
    if options.probe_report:
        from bnlint.confirm import mark_confirmed

        findings = mark_confirmed(findings, options.probe_report)
    if options.baseline:
        from bnlint.baseline import BaselineError

        try:
            findings = _apply_baseline(
                Path(options.baseline), options.write_baseline, findings, results, options.quiet
            )
        except BaselineError as error:
            raise _Failed(str(error)) from None
    return findings


def _apply_baseline(
    path: Path,
    write: bool,
    findings: list[Finding],
    results: Sequence[FileResult],
    quiet: bool,
) -> list[Finding]:
    sources = {r.filename: r.source for r in results if r.source is not None}
    cells = {(r.filename, n): text for r in results for n, text in r.cell_sources.items()}

    def source_of(finding: Finding) -> SourceText | None:
        if finding.cell is not None:
            return cells.get((finding.filename, finding.cell))
        return sources.get(finding.filename)

    from bnlint.baseline import use_baseline

    linted = [result.filename for result in results]
    outcome = use_baseline(path, findings, source_of, write=write, linted=linted)
    if not quiet:
        click.echo(f"bnlint: {outcome.note}", err=True)
    return outcome.findings


def _render(findings: list[Finding], run: RunResult, options: CheckOptions) -> str:
    results = run.files
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
        fixes_applied=0 if options.from_stdin else run.fixes_applied,
        color=options.output_format == "text" and use_color(options.output),
        rules={code: (info.name, info.summary, info.severity) for code, info in RULES.items()},
        version=__version__,
        quiet=options.quiet,
        unsafe_fixes=bool(options.unsafe_fixes),
        root=str(repository_root(Path.cwd())),
        cwd=str(Path.cwd()),
    )
    output_format = options.output_format or "text"
    if options.statistics:
        from bnlint.report.statistics import render as statistics

        return statistics(findings, output_format, bool(options.unsafe_fixes))
    return render(output_format, report)


def _write_report(text: str, options: CheckOptions) -> None:
    if options.output is None:
        # With `-` and --fix, standard output carries the fixed text.
        stream = sys.stderr if options.from_stdin and options.fix else sys.stdout
        stream.write(text)
        return
    target = Path(options.output)
    try:
        # Whole or not at all: a reader (or Ctrl-C) never sees half a report; a report
        # written before keeps its mode, owner and links.
        write_atomic(target, text.encode("utf-8"))
    except OSError as error:
        raise _Failed(f"cannot write {options.output}: {error.strerror or error}") from None


def _exit(status: ExitStatus, had_error: bool) -> ExitStatus:
    return ExitStatus.ERROR if had_error else status
