"""Lint one file: decode, parse, analyse, run rules, suppress, fix; read from the cache.

libcst (through `engine.linter`) is imported only for files the cache cannot answer.
"""

from __future__ import annotations

import ast
import errno
from pathlib import Path
from typing import TYPE_CHECKING

from bnlint.analysis import config_files
from bnlint.cache import Cache
from bnlint.config import FileSettings
from bnlint.diagnostics import Finding, Position
from bnlint.discovery import FileTooLarge, NotRegularFile, read_regular
from bnlint.engine.noqa import unused_noqa
from bnlint.engine.results import DEFAULT_OPTIONS, FileResult, LintOptions
from bnlint.engine.syntax import SYNTAX_ERROR, syntax_finding
from bnlint.fixes import fix_until_stable, still_parses
from bnlint.notebook import (
    NOTEBOOK_SUFFIX,
    CodeCell,
    Notebook,
    NotebookError,
    cell_sources,
    in_cells,
    json_text,
    notebook_cell_sources,
    parse_program,
)
from bnlint.source import SourceText, UndecodableSource, decode
from bnlint.suppression import file_is_suppressed, unsuppressed

if TYPE_CHECKING:
    from bnlint.analysis.project import ProjectIndex

# libcst holds about 600 bytes per character of source: the largest hand-written files are
# near 1.5 MB, generated ones can be 20 MB and would take a worker's memory (12 GB and more).
MAX_FILE_CHARS = 5_000_000
_TOO_BIG = f"larger than the {MAX_FILE_CHARS // 1_000_000} MB bnlint analyses; skipped"
# No decoding fits more bytes than this into MAX_FILE_CHARS characters: larger files are
# skipped from their size alone, before a byte is read.
MAX_FILE_BYTES = MAX_FILE_CHARS * 4
# A notebook's JSON carries its outputs (images) besides the code, which MAX_FILE_CHARS
# still limits once the cells are read.
MAX_NOTEBOOK_BYTES = 100_000_000
_NOTEBOOK_TOO_BIG = (
    f"a notebook larger than the {MAX_NOTEBOOK_BYTES // 1_000_000} MB bnlint reads; skipped"
)


def lint_source(
    source: SourceText,
    filename: str,
    settings: FileSettings,
    options: LintOptions = DEFAULT_OPTIONS,
    project: ProjectIndex | None = None,
    known_depth: int | None = None,
) -> FileResult:
    """Lint decoded text; with `options.fix`, fix and relint until nothing more applies.

    `known_depth`: the `ast` depth of exactly this text, when something already parsed it.
    """
    result = FileResult(filename, source=source)
    if file_is_suppressed(source.text):
        return result
    if len(source.text) > MAX_FILE_CHARS:
        result.notice = _TOO_BIG
        return result
    from bnlint.engine.linter import Linter  # libcst: only for files the cache did not answer

    linter = Linter(filename, settings, project)
    if (
        options.prefilter
        and not linter.wants(source.text.encode("utf-8", errors="surrogatepass"))
        and not _unparsable(source.text, settings)
    ):
        return result

    def analyse(text: SourceText, depth: int | None = None) -> tuple[list[Finding], str | None]:
        found, notice = linter.lint(text, depth)
        return [*found, *unused_noqa(text, found, settings, filename)], notice

    findings, result.notice = analyse(source, known_depth)
    if options.fix:
        outcome = fix_until_stable(
            source, findings, result.notice, analyse, unsafe=options.unsafe_fixes
        )
        findings, result.notice = outcome.findings, outcome.notice
        if outcome.rejected:
            # A rule built an edit that breaks the code: a bug of bnlint, never written.
            result.error = f"internal error while fixing {filename}: " + "; ".join(
                rejected.describe() for rejected in outcome.rejected
            )
        if outcome.applied:
            result.fixed_text = outcome.source.text
            result.source = outcome.source
            result.fixes_applied = outcome.applied
    result.findings = sorted(unsuppressed(findings, result.source or source), key=Finding.sort_key)
    return result


def lint_bytes(
    data: bytes,
    filename: str,
    settings: FileSettings,
    options: LintOptions = DEFAULT_OPTIONS,
    project: ProjectIndex | None = None,
) -> FileResult:
    """Lint raw file content: decoding problems become BN001 findings."""
    if filename.endswith(NOTEBOOK_SUFFIX):
        return _lint_notebook(data, filename, settings, options, project)
    if len(data) > MAX_FILE_BYTES:  # no decoding makes this fit
        return FileResult(filename, notice=_TOO_BIG)
    from bnlint.engine.linter import Linter

    linter_wants = not options.prefilter or Linter(filename, settings, project).wants(data)
    try:
        source = decode(data)
    except UndecodableSource as error:
        result = FileResult(filename)
        if SYNTAX_ERROR in settings.enabled:
            result.findings = [syntax_finding(filename, str(error), error.position)]
        return result
    if len(source.text) > MAX_FILE_CHARS:
        return FileResult(filename, notice=_TOO_BIG)
    parsed_by_index = project is not None and project.parsed(filename)
    if not linter_wants and (parsed_by_index or not _unparsable(source.text, settings)):
        return FileResult(filename, source=source)
    known_depth = project.depth_of(filename, data) if project is not None else None
    return lint_source(source, filename, settings, options, project, known_depth)


def _lint_notebook(
    data: bytes,
    filename: str,
    settings: FileSettings,
    options: LintOptions,
    project: ProjectIndex | None,
) -> FileResult:
    """A notebook's code cells linted as one program; findings carry their cell number."""
    try:
        notebook, program = parse_program(data)
    except NotebookError as error:
        result = FileResult(filename, source=json_text(data))
        if SYNTAX_ERROR in settings.enabled:
            result.findings = [syntax_finding(filename, str(error), error.position)]
        return result
    inner = lint_source(program, filename, settings, options, project)
    final = inner.source or program
    rows = notebook.cell_rows(final.text)
    texts = notebook.split(final.text) if inner.fixed_text is not None else None
    notice, internal = inner.notice, inner.error
    # Each cell runs alone in Jupyter: one the fixes leave unparsable is not written.
    broken = _broken_cell(notebook, final.text, rows) if texts and rows else None
    if inner.fixed_text is not None and (rows is None or texts is None or broken):
        # A fix moved a cell boundary: report without fixing rather than guess the cells.
        inner = lint_source(program, filename, settings, LintOptions(), project)
        final, texts = program, None
        rows = notebook.cell_rows(program.text)
        notice = "fixes not applied: they would cross notebook cells"
        if broken:
            notice = inner.notice
            internal = f"internal error while fixing {filename}: {broken}; no fix was applied"
    assert rows is not None  # the unfixed program always has its own markers
    result = FileResult(
        filename,
        findings=in_cells(inner.findings, rows, final),
        source=SourceText(notebook.text, bom=notebook.bom),
        notice=notice,
        error=internal,
        cell_sources=cell_sources(notebook, final, rows),
    )
    if texts is not None:
        fixed = notebook.with_sources(texts)
        if fixed != notebook.text:
            result.fixed_text = fixed
            result.fixes_applied = inner.fixes_applied
    return result


def _broken_cell(notebook: Notebook, fixed: str, rows: list[tuple[CodeCell, int]]) -> str | None:
    """Which cell of the fixed program `fixed` no longer parses as it did, and why."""
    lines = fixed.splitlines(keepends=True)
    for index, (cell, row) in enumerate(rows):
        # The line before each cell's first row is the boundary marker.
        end = rows[index + 1][1] - 2 if index + 1 < len(rows) else len(lines)
        why = still_parses(cell.text, "".join(lines[row - 1 : end]))
        if why is not None:
            return f"the fixed cell {cell.number} does not parse ({why})"
    return None


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
    options: LintOptions = DEFAULT_OPTIONS,
    project: ProjectIndex | None = None,
    cache: Cache | None = None,
) -> FileResult:
    """Read and lint one file; an unreadable file or a bug becomes `error`, not a traceback.

    FIFOs, sockets and devices are never opened for reading, and files over the size limit
    are skipped before they are read: each is a notice.
    """
    notebook = filename.endswith(NOTEBOOK_SUFFIX)
    try:
        data = read_regular(path, MAX_NOTEBOOK_BYTES if notebook else MAX_FILE_BYTES)
    except NotRegularFile as error:
        return FileResult(filename, notice=f"{error.strerror}; skipped")
    except FileTooLarge:
        return FileResult(filename, notice=_NOTEBOOK_TOO_BIG if notebook else _TOO_BIG)
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
        # Files the analyses read besides this one decide its findings too (a YAML config's
        # batch size): the cache entry stays valid only while they are unchanged.
        with config_files.recording() as read:
            result = lint_bytes(data, filename, settings, options, project)
    except Exception as error:
        return FileResult(filename, error=f"internal error while linting {filename}: {error!r}")
    result.dependencies = {str(dependency): Cache.digest_of(dependency) for dependency in read}
    if result.fixed_text is not None:
        result.original = data
    if use_cache and cache is not None and result.error is None:
        cache.put(filename, data, result.findings, result.notice, result.dependencies)
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
        result.findings = [syntax_finding(filename, reason, Position(1, 1), hint)]
    else:
        result.notice = reason
    return result


def _decode_quietly(data: bytes) -> SourceText | None:
    try:
        return decode(data)
    except UndecodableSource:
        return None
