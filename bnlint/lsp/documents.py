"""What the language server lints: editor buffers and notebooks, through one engine session.

The session is the one `bnlint check` uses, so an editor shows the same findings,
cross-file ones included: a buffer is linted against the project index of the files
around it on disk. A notebook arrives as cells (notebook document sync); the cells are put
back together as notebook JSON and linted by the same notebook adapter as a `.ipynb` file,
and each finding goes back to its cell's URI.

The configuration is read again when it changes: the client's file watcher says so
(`workspace/didChangeWatchedFiles`), and every lint also compares the configuration
files above the document with what it saw last, for clients that watch nothing.

Buffers are text: they are linted as the editor holds them, never encoded and decoded
again with the coding cookie they declare. Two kinds of text are not linted as they are:
a document over the size limit (not parsed at all: a notice says why), and lone UTF-16
surrogates (JSON can carry `\\ud800`; Python cannot compile it), linted with U+FFFD in
their place, which has the same length in every position encoding.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bnlint.config import CliOverrides, ConfigError, ConfigResolver, FileSettings
from bnlint.diagnostics import Applicability, Finding, Position, RelatedLocation, Span
from bnlint.engine import LintSession
from bnlint.engine.files import MAX_FILE_CHARS
from bnlint.engine.results import FileResult, LintOptions
from bnlint.engine.session import lint_text
from bnlint.engine.syntax import SYNTAX_ERROR, syntax_finding
from bnlint.fixes import apply_edits, still_parses
from bnlint.registry import all_rules
from bnlint.source import SourceText, UndecodableSource, decode
from bnlint.suppression import line_suppresses

logger = logging.getLogger(__name__)

LINTED_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"
CONFIG_NAMES = frozenset({"pyproject.toml", "bnlint.toml", ".bnlint.toml"})


@dataclass(frozen=True)
class Cell:
    """One notebook cell as the editor holds it."""

    uri: str
    code: bool
    language: str
    text: str


# A lone surrogate: a UTF-16 half without its other half (a pair JSON-decodes to one
# character, so what is left here is always alone).
_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


@dataclass
class Linted:
    """A document's findings with the text their rows count in."""

    findings: list[Finding]
    text: str
    problem: str | None = None
    # Why the document was not linted at all (too large), shown in place of findings.
    skipped: str | None = None

    @property
    def fixable(self) -> bool:
        """Whether some finding has a safe fix: else "fix all" has nothing to apply."""
        return any(
            f.fix is not None and f.fix.applicability is Applicability.SAFE for f in self.findings
        )


@dataclass
class NotebookLinted:
    """A notebook's findings, by cell URI, and each cell's text."""

    cells: dict[str, Linted] = field(default_factory=dict)
    problem: str | None = None
    skipped: str | None = None


class LintState:
    """The engine session and what the server knows about the configuration.

    Not thread-safe: the server calls it from one worker thread only.
    """

    def __init__(self, max_chars: int = MAX_FILE_CHARS) -> None:
        # Documents longer than this are not linted (never parsed); never above the
        # engine's own limit, which `bnlint check` applies to files.
        self.max_chars = min(max_chars, MAX_FILE_CHARS)
        self._session: LintSession | None = None
        # Configuration files above each linted folder: (path, mtime, size) of those present.
        self._stamps: dict[Path, tuple[tuple[str, int, int], ...]] = {}
        # Bumped when the configuration or files on disk change: cached answers expire.
        self.generation = 0

    # --- configuration ---------------------------------------------------------------

    def session(self) -> LintSession:
        """The session of the current configuration (raises ConfigError when it is broken;
        the next call reads it again)."""
        if self._session is None:
            self._session = LintSession(ConfigResolver(CliOverrides(), None))
        return self._session

    def configuration_changed(self) -> None:
        """Read the configuration afresh (a new resolver) and rebuild project indexes."""
        self._session = None
        self._stamps.clear()
        self.generation += 1

    def files_changed(self) -> None:
        """Files on disk changed: the project index around a buffer is out of date."""
        if self._session is not None:
            self._session.forget_project()
        self.generation += 1

    def check_configuration(self, path: Path) -> bool:
        """Whether a configuration file above `path` changed since the last look; then the
        configuration is read again (clients without a file watcher rely on this)."""
        folder = path.absolute().parent
        stamp = _config_stamp(folder)
        previous = self._stamps.get(folder)
        self._stamps[folder] = stamp
        if previous is not None and previous != stamp:
            self.configuration_changed()
            self._stamps[folder] = stamp
            return True
        return False

    # --- linting -----------------------------------------------------------------------

    def lint_text(self, text: str, path: Path, *, fix: bool = False) -> FileResult:
        """Lint a buffer as `bnlint check` would lint the saved file, cross-file included."""
        self.check_configuration(path)
        try:
            return self.session().lint_buffer(text, path, fix=fix)
        except ConfigError as error:
            # A broken configuration must not leave the editor without findings: lint
            # with the default rules and say what is wrong.
            result = lint_text(text, str(path), _default_settings(), LintOptions(fix=fix))
            result.notice = f"configuration error, default rules used: {error}"
            return result

    def too_large(self, size: int) -> str | None:
        """Why a document of `size` characters is not linted, or None when it is."""
        if size <= self.max_chars:
            return None
        over = f"bnlint did not lint this document: it has {size:,} characters, more than the "
        if self.max_chars < MAX_FILE_CHARS:
            return (
                f"{over}{self.max_chars:,} the editor allows (initializationOptions."
                "maxDocumentChars); raise that limit, or split the file, to have it linted"
            )
        return (
            f"{over}{self.max_chars:,} bnlint analyses (`bnlint check` skips such files too): "
            "parsing it would take minutes and gigabytes of memory; split the file to have it "
            "linted"
        )

    def lint_document(self, text: str, path: Path) -> Linted:
        if path.suffix not in LINTED_SUFFIXES:
            return Linted([], text)
        skipped = self.too_large(len(text))
        if skipped is not None:
            return Linted([], text, skipped=skipped)
        clean = _without_surrogates(text)
        result = self.lint_text(clean, path)
        findings = [
            *_surrogate_findings(text, result.filename, self._enabled(path)),
            *result.findings,
        ]
        return Linted(findings, text, _problem_of(result))

    def fixed_document(self, text: str, path: Path) -> str | None:
        """The buffer with every safe fix applied, or None when nothing applies (or the
        fixed text would not parse)."""
        if path.suffix not in LINTED_SUFFIXES or self.too_large(len(text)) is not None:
            return None
        clean = _without_surrogates(text)
        result = self.lint_text(clean, path, fix=True)
        _log_dropped_fixes(result)
        fixed = result.fixed_text
        if fixed is None or still_parses(clean, fixed) is not None:
            return None  # the engine drops a fix that breaks the code; this is a last guard
        return _restore_surrogates(text, clean, fixed)

    def lint_notebook(self, cells: Sequence[Cell], path: Path) -> NotebookLinted:
        """Lint the cells as one notebook; findings keyed by the URI of their cell."""
        linted = NotebookLinted({cell.uri: Linted([], cell.text) for cell in cells})
        if not any(cell.code for cell in cells):
            return linted
        skipped = self.too_large(sum(len(cell.text) for cell in cells))
        if skipped is not None:
            linted.cells[cells[0].uri].skipped = skipped
            return linted
        clean = [_cell_without_surrogates(cell) for cell in cells]
        notebook = _notebook_path(path)
        result = self.lint_text(notebook_json(clean), notebook)
        linted.problem = _problem_of(result)
        enabled = self._enabled(notebook)
        for number, cell in enumerate(cells, start=1):
            for finding in _surrogate_findings(cell.text, result.filename, enabled, number):
                linted.cells[cell.uri].findings.append(finding)
        for finding in result.findings:
            # Cells are numbered from 1 in the order the editor sent them.
            number = finding.cell or 1
            if 1 <= number <= len(cells):
                linted.cells[cells[number - 1].uri].findings.append(finding)
        return linted

    def fixed_notebook(self, cells: Sequence[Cell], path: Path) -> dict[str, tuple[str, str]]:
        """Each cell's text and its text with every safe fix applied, by cell URI."""
        if not any(cell.code for cell in cells):
            return {}
        if self.too_large(sum(len(cell.text) for cell in cells)) is not None:
            return {}
        clean = [_cell_without_surrogates(cell) for cell in cells]
        result = self.lint_text(notebook_json(clean), _notebook_path(path), fix=True)
        _log_dropped_fixes(result)
        fixed = result.fixed_text
        if fixed is None:
            return {}
        raw_cells = json.loads(fixed)["cells"]
        texts = {}
        for cell, cleaned, raw in zip(cells, clean, raw_cells, strict=True):
            source = raw["source"]
            new = "".join(source) if isinstance(source, list) else source
            restored = _restore_surrogates(cell.text, cleaned.text, new)
            if restored is None:
                return {}
            texts[cell.uri] = (cell.text, restored)
        return texts

    def _enabled(self, path: Path) -> frozenset[str]:
        try:
            return self.session().settings_for(path.absolute()).enabled
        except ConfigError:
            return _default_settings().enabled


def _log_dropped_fixes(result: FileResult) -> None:
    # The engine left out a fix whose result does not parse (a rule's bug): the other fixes
    # still apply; the editor's server log says which one and why.
    if result.error is not None:
        logger.warning("%s", result.error)


def fix_keeps_parsing(text: str, finding: Finding) -> bool:
    """Whether `finding`'s fix, applied alone to `text`, leaves code that parses as well as
    before (bnlint.fixes' check; on the lint worker: it may use `ast` and warnings state)."""
    if finding.fix is None:
        return True
    clean = _without_surrogates(text)
    return still_parses(clean, _fixed_alone(clean, finding)) is None


def quick_fix_check(text: str, findings: Sequence[Finding]) -> tuple[set[int], list[Finding]]:
    """The part of `fix_keeps_parsing` safe beside the lint worker: the ids of the findings
    whose fix breaks a text that compiles, and the findings it cannot judge (the text does
    not compile: `fix_keeps_parsing` decides, on the worker).

    compile(), not ast.parse: CPython 3.11's ast.parse in two threads at once corrupts its
    AST recursion counter (SystemError: "AST constructor recursion depth mismatch").
    """
    clean = _without_surrogates(text)
    if not _compiles(clean):
        return set(), list(findings)
    return {id(f) for f in findings if not _compiles(_fixed_alone(clean, f))}, []


def _fixed_alone(text: str, finding: Finding) -> str:
    return apply_edits(SourceText(text), finding.fix.edits) if finding.fix else text


def _compiles(text: str) -> bool:
    try:
        compile(text, "<bnlint fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _without_surrogates(text: str) -> str:
    return _SURROGATE.sub(_REPLACEMENT, text)


def _cell_without_surrogates(cell: Cell) -> Cell:
    clean = _without_surrogates(cell.text)
    return cell if clean == cell.text else Cell(cell.uri, cell.code, cell.language, clean)


def _surrogate_findings(
    text: str, filename: str, enabled: frozenset[str], cell: int | None = None
) -> list[Finding]:
    """One BN001 finding at the first lone surrogate of `text` (counting the others)."""
    if SYNTAX_ERROR not in enabled:
        return []
    found = [match.start() for match in _SURROGATE.finditer(text)]
    if not found:
        return []
    source = SourceText(text)
    start = source.position(found[0])
    if line_suppresses(source.line(start.row), SYNTAX_ERROR):
        return []
    others = f" ({len(found) - 1} more in this document)" if len(found) > 1 else ""
    finding = syntax_finding(filename, "", start)
    return [
        replace(
            finding,
            # Not BN001's "cannot parse this file": the rest of the document is linted.
            message=(
                f"a lone surrogate U+{ord(text[found[0]]):04X} is not a character{others}: "
                "Python cannot compile it and the file cannot be saved as UTF-8 (the rest of "
                "the document is checked with U+FFFD in its place)"
            ),
            hint="delete it, or write it as an escape in a string (`'\\ud800'`)",
            span=Span(start, Position(start.row, start.column + 1)),
            cell=cell,
        )
    ]


def _restore_surrogates(text: str, clean: str, fixed: str) -> str | None:
    """`fixed` (fixed from `clean`) with `text`'s lone surrogates back where the fixes did
    not touch; None when a fix rewrote text around one (it cannot be put back)."""
    if clean == text:
        return fixed
    prefix = _common_prefix(clean, fixed)
    suffix = _common_prefix(clean[prefix:][::-1], fixed[prefix:][::-1])
    if _SURROGATE.search(text, prefix, len(text) - suffix):
        return None
    return text[:prefix] + fixed[prefix : len(fixed) - suffix] + text[len(text) - suffix :]


def notebook_json(cells: Sequence[Cell]) -> str:
    """The cells as nbformat 4 JSON, the input of bnlint's notebook adapter.

    A code cell in another language (an `R` cell in a Python notebook) goes in as a raw
    cell: its number is kept, its text is not linted.
    """
    document = {
        "cells": [
            {
                "cell_type": "code" if cell.code and _is_python(cell.language) else "raw",
                "metadata": {},
                "source": cell.text,
                **({"outputs": [], "execution_count": None} if cell.code else {}),
            }
            for cell in cells
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document)


def _notebook_path(path: Path) -> Path:
    # An untitled notebook's URI has no `.ipynb`; the engine picks the notebook adapter
    # by that suffix.
    return path if path.suffix == NOTEBOOK_SUFFIX else path.with_name(path.name + NOTEBOOK_SUFFIX)


def _is_python(language: str) -> bool:
    return language.lower() in ("python", "python3", "ipython", "")


def _problem_of(result: FileResult) -> str | None:
    return result.error or result.notice


def _default_settings() -> FileSettings:
    defaults = frozenset(code for code, rule in all_rules().items() if rule.default_enabled)
    return FileSettings(enabled=defaults)


def _config_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    stamp = []
    for directory in (folder, *folder.parents):
        for name in sorted(CONFIG_NAMES):
            candidate = directory / name
            try:
                info = os.stat(candidate)
            except OSError:
                continue
            stamp.append((str(candidate), info.st_mtime_ns, info.st_size))
    return tuple(stamp)


def is_config_file(path: str) -> bool:
    return Path(path).name in CONFIG_NAMES


def related_locator(
    uri: str, finding: Finding, lines: list[str], cells: Mapping[int, tuple[str, str]]
) -> Callable[[RelatedLocation], tuple[str, list[str]] | None]:
    """Where each step of `finding`'s explanation is shown, and the lines its columns count
    in: this document (`uri`, its unsaved `lines`), another cell of the same notebook
    (`cells`: cell number -> (cell URI, text)), or another file, read from disk; None for a
    step that cannot be shown (a file since deleted).
    """
    read: dict[str, list[str]] = {}

    def locate(step: RelatedLocation) -> tuple[str, list[str]] | None:
        if step.filename == finding.filename and step.cell == finding.cell:
            return uri, lines
        if step.filename == finding.filename and step.cell is not None:
            if step.cell not in cells:
                return None
            cell_uri, text = cells[step.cell]
            return cell_uri, text.splitlines()
        if step.cell is not None:
            return None  # a cell of another notebook: no URI names it unless it is open
        path = Path(step.filename).absolute()
        if step.filename not in read:
            try:
                # Decoded as bnlint decodes the file to lint it: its coding cookie counts.
                read[step.filename] = decode(path.read_bytes()).text.splitlines()
            except (OSError, UndecodableSource):
                return None
        return path.as_uri(), read[step.filename]

    return locate


def _common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (slices compare at C speed)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
