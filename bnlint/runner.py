"""Lint one file (decode, parse, analyse, run rules, suppress, fix) and many (--jobs)."""

from __future__ import annotations

import ast
import errno
import gc
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from bnlint.cache import Cache
from bnlint.config import FileSettings
from bnlint.diagnostics import Edit, Finding, Position, Severity, Span
from bnlint.notebook import NOTEBOOK_SUFFIX, lint_notebook, notebook_cell_sources
from bnlint.source import SourceText, UndecodableSource, decode
from bnlint.suppression import file_is_suppressed, unsuppressed

SYNTAX_ERROR = "BN001"
_MAX_FIX_ROUNDS = 10


@dataclass
class FileResult:
    """The outcome of linting one file."""

    filename: str
    findings: list[Finding] = field(default_factory=list)
    source: SourceText | None = None
    # Set when fixes changed the text; the caller decides whether to write it.
    fixed_text: str | None = None
    fixes_applied: int = 0
    # An internal error (a bug in bnlint, or an unreadable file): exit 2, others still linted.
    error: str | None = None
    # Something the user should know that is not a finding (e.g. a file libcst cannot parse).
    notice: str | None = None
    # A notebook's code cells by cell number: findings' rows count within these.
    cell_sources: dict[int, SourceText] = field(default_factory=dict)
    # The file exists but could not be read (permissions, I/O): a BN001 finding, and exit 2
    # when no file of the run could be read.
    unreadable: bool = False
    # The bytes that were linted, kept when fixes changed them: `--fix` writes only over these.
    original: bytes | None = None


# libcst holds about 600 bytes per character of source: the largest hand-written files are
# near 1.5 MB, generated ones can be 20 MB and would take a worker's memory (12 GB and more).
MAX_FILE_CHARS = 5_000_000
_TOO_BIG = f"larger than the {MAX_FILE_CHARS // 1_000_000} MB bnlint analyses; skipped"


def _syntax_finding(
    filename: str, message: str, position: Position, hint: str | None = None
) -> Finding:
    from bnlint.registry import all_rules  # only on the error path: it imports libcst

    rule = all_rules()[SYNTAX_ERROR]
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=rule.message.format(detail=message),
        hint=hint or rule.hint,
        filename=filename,
        span=Span(position, position),
    )


def apply_edits(source: SourceText, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (the caller has dropped overlapping ones)."""
    text = source.text
    for edit in sorted(edits, key=lambda e: e.span, reverse=True):
        start = source.offset(edit.span.start)
        end = source.offset(edit.span.end)
        text = text[:start] + edit.content + text[end:]
    return text


def _applicable(findings: Sequence[Finding], unsafe: bool) -> list[Edit]:
    """Edits of the fixes to apply now; a fix overlapping an earlier one waits a round."""
    chosen: list[Edit] = []
    taken: list[Span] = []
    for finding in sorted(findings, key=Finding.sort_key):
        fix = finding.fix
        if fix is None or (fix.applicability.value == "unsafe" and not unsafe):
            continue
        spans = [edit.span for edit in fix.edits]
        if any(_overlaps(span, other) for span in spans for other in taken):
            continue
        taken.extend(spans)
        chosen.extend(fix.edits)
    return chosen


def _overlaps(a: Span, b: Span) -> bool:
    return (a.start < b.end and b.start < a.end) or a.start == b.start


@dataclass(frozen=True)
class LintOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    # Skip files without any enabled rule's trigger token (off only to prove it loses nothing).
    prefilter: bool = True


def lint_source(
    source: SourceText,
    filename: str,
    settings: FileSettings,
    options: LintOptions = LintOptions(),
    project: object = None,
    known_depth: int | None = None,
) -> FileResult:
    """Lint decoded text; with `options.fix`, fix until nothing more applies.

    `known_depth`: the `ast` depth of exactly this text, when something already parsed it.
    """
    result = FileResult(filename, source=source)
    if file_is_suppressed(source.text):
        return result
    if len(source.text) > MAX_FILE_CHARS:
        result.notice = _TOO_BIG
        return result
    from bnlint.linter import Linter  # libcst: only for files the cache did not answer

    linter = Linter(filename, settings, project)
    if (
        options.prefilter
        and not linter.wants(source.text.encode("utf-8", errors="surrogatepass"))
        and not _unparsable(source.text, settings)
    ):
        return result
    findings, result.notice = linter.lint(source, known_depth)
    if options.fix:
        current = source
        for _ in range(_MAX_FIX_ROUNDS):
            edits = _applicable(unsuppressed(findings, current), options.unsafe_fixes)
            if not edits:
                break
            current = SourceText(apply_edits(current, edits), current.encoding, current.bom)
            result.fixes_applied += len(edits)
            findings, result.notice = linter.lint(current)
        if current is not source:
            result.fixed_text = current.text
            result.source = current
    result.findings = sorted(unsuppressed(findings, result.source or source), key=Finding.sort_key)
    return result


def lint_bytes(
    data: bytes,
    filename: str,
    settings: FileSettings,
    options: LintOptions = LintOptions(),
    project: object = None,
) -> FileResult:
    """Lint raw file content: decoding problems become BN001 findings."""
    if filename.endswith(NOTEBOOK_SUFFIX):
        return lint_notebook(data, filename, settings, options, project)
    if len(data) > MAX_FILE_CHARS * 4:  # no decoding makes this fit
        return FileResult(filename, notice=_TOO_BIG)
    from bnlint.linter import Linter

    linter_wants = not options.prefilter or Linter(filename, settings, project).wants(data)
    try:
        source = decode(data)
    except UndecodableSource as error:
        result = FileResult(filename)
        if SYNTAX_ERROR in settings.enabled:
            result.findings = [_syntax_finding(filename, str(error), error.position)]
        return result
    if len(source.text) > MAX_FILE_CHARS:
        return FileResult(filename, notice=_TOO_BIG)
    if not linter_wants and (
        _parsed_by_index(project, filename) or not _unparsable(source.text, settings)
    ):
        return FileResult(filename, source=source)
    return lint_source(
        source, filename, settings, options, project, _indexed_depth(project, filename, data)
    )


def _indexed_depth(project: object, filename: str, data: bytes) -> int | None:
    depth_of = getattr(project, "depth_of", None)
    return cast("int | None", depth_of(filename, data)) if callable(depth_of) else None


def _parsed_by_index(project: object, filename: str) -> bool:
    """Whether the project index already parsed this file without a syntax error."""
    parsed = getattr(project, "parsed", None)
    return bool(parsed(filename)) if callable(parsed) else False


def _unparsable(text: str, settings: FileSettings) -> bool:
    """Whether a file no rule's trigger matched still needs the parser, for BN001.

    A syntax error is a finding in every file, not only in files some rule reads; `ast`'s
    parser is about ten times faster than libcst's, so files without triggers stay cheap.
    """
    if SYNTAX_ERROR not in settings.enabled:
        return False
    try:
        ast.parse(text)
    except SyntaxError:
        return True
    except (ValueError, RecursionError, MemoryError):
        # Null bytes (ValueError before 3.12) or absurd nesting: let libcst decide.
        return True
    return False


def lint_path(
    path: Path,
    filename: str,
    settings: FileSettings,
    options: LintOptions = LintOptions(),
    project: object = None,
    cache: Cache | None = None,
) -> FileResult:
    """Read and lint one file; an unreadable file or a bug becomes `error`, not a traceback."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return _unread(path, filename, settings, error)
    # Fixing rewrites files, so it always lints afresh.
    use_cache = cache is not None and not options.fix
    if use_cache and cache is not None:
        cached = cache.get(filename, data)
        if cached is not None:
            findings, notice = cached
            source = _decode_quietly(data) if findings else None
            cells = (
                notebook_cell_sources(data)
                if findings and filename.endswith(NOTEBOOK_SUFFIX)
                else {}
            )
            return FileResult(
                filename, findings=findings, source=source, notice=notice, cell_sources=cells
            )
    try:
        result = lint_bytes(data, filename, settings, options, project)
    except Exception as error:
        return FileResult(filename, error=f"internal error while linting {filename}: {error!r}")
    if result.fixed_text is not None:
        result.original = data
    if use_cache and cache is not None and result.error is None:
        cache.put(filename, data, result.findings, result.notice)
    return result


def _unread(path: Path, filename: str, settings: FileSettings, error: OSError) -> FileResult:
    """A file that could not be read: gone is a notice, present but unreadable a finding."""
    if isinstance(error, FileNotFoundError) or error.errno == errno.ELOOP:
        if path.is_symlink() or error.errno == errno.ELOOP:
            return FileResult(filename, notice="a symbolic link to nothing readable; skipped")
        return FileResult(filename, notice="disappeared before bnlint could read it; skipped")
    reason = f"cannot read it ({error.strerror or error})"
    result = FileResult(filename, unreadable=True)
    if SYNTAX_ERROR in settings.enabled:
        hint = "make the file readable, or exclude it from linting"
        result.findings = [_syntax_finding(filename, reason, Position(1, 1), hint)]
    else:
        result.notice = reason
    return result


def _decode_quietly(data: bytes) -> SourceText | None:
    try:
        return decode(data)
    except UndecodableSource:
        return None


@dataclass(frozen=True)
class Job:
    path: Path
    filename: str
    settings: FileSettings
    cache: Cache | None = None


# The run's project index in a worker process (set once by the pool's initializer).
_WORKER_PROJECT: object = None


def _set_worker_project(project: object) -> None:
    global _WORKER_PROJECT
    _WORKER_PROJECT = project
    tune_gc()


def tune_gc() -> None:
    """Fewer cyclic collections while parsing: a libcst tree is hundreds of thousands of
    objects, and the default thresholds rescan them all many times per file (about a
    tenth of the run); the trees themselves are freed by reference counting."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _run_job(job: Job, options: LintOptions, project: object = None) -> FileResult:
    project = project if project is not None else _WORKER_PROJECT
    result = lint_path(job.path, job.filename, job.settings, options, project, cache=job.cache)
    if not result.findings and result.fixed_text is None:
        # The text goes back to the command only for a code frame or a fix: a whole
        # corpus of it would be copied between processes and held to the end of the run.
        result.source = None
    return result


def _index_paths(paths: Sequence[tuple[Path, str]], summaries: Path | None = None) -> object:
    from bnlint.analysis.project import build_index

    return build_index(paths, summaries)


def build_project(
    paths: Sequence[tuple[Path, str]], workers: int, summaries: Path | None = None
) -> object:
    """The project index over every (path, display name) of the run, built with `ast`.

    `summaries` is a cache folder of per-file summaries: unchanged files are not parsed.
    """
    from bnlint.analysis.project import ProjectIndex, cached_summaries

    index = ProjectIndex()
    if summaries is not None:
        # Reading summaries back is cheaper than starting worker processes.
        index, missing = cached_summaries(paths, summaries)
        paths = missing
    if workers <= 1 or len(paths) < 64:
        index.merge(cast(ProjectIndex, _index_paths(paths, summaries)))
        return index
    size = max(16, len(paths) // (workers * 4))
    batches = [paths[start : start + size] for start in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_index_paths, batches, [summaries] * len(batches)):
            index.merge(cast(ProjectIndex, part))
    return index


def lint_many(
    jobs: Sequence[Job],
    options: LintOptions,
    workers: int,
    progress: Callable[[int], None] | None = None,
    project: object = None,
) -> list[FileResult]:
    """Lint files, in worker processes when there are enough of them; input order kept.

    `progress` is called with the number of files finished so far.
    """
    if workers <= 1 or len(jobs) < 4:
        results = []
        for job in jobs:
            results.append(_run_job(job, options, project))
            if progress is not None:
                progress(len(results))
        return results
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_set_worker_project, initargs=(project,)
    ) as pool:
        chunk = max(1, min(16, len(jobs) // (workers * 8)))
        results = []
        for result in pool.map(_run_job, jobs, [options] * len(jobs), chunksize=chunk):
            results.append(result)
            if progress is not None:
                progress(len(results))
        return results


def default_workers() -> int:
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )


__all__ = [
    "FileResult",
    "Job",
    "LintOptions",
    "Severity",
    "apply_edits",
    "build_project",
    "lint_bytes",
    "lint_many",
    "lint_path",
    "lint_source",
]
