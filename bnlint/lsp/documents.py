"""What the language server lints: editor buffers and notebooks, through one engine session.

The session is the one `bnlint check` uses, so an editor shows the same findings,
cross-file ones included: a buffer is linted against the project index of the files
around it on disk. A notebook arrives as cells (notebook document sync); the cells are put
back together as notebook JSON and linted by the same notebook adapter as a `.ipynb` file,
and each finding goes back to its cell's URI.

The configuration is read again when it changes: the client's file watcher says so
(`workspace/didChangeWatchedFiles`), and every lint also compares the configuration
files above the document with what it saw last, for clients that watch nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bnlint.config import CliOverrides, ConfigError, ConfigResolver, FileSettings
from bnlint.diagnostics import Finding, RelatedLocation
from bnlint.engine import LintSession
from bnlint.engine.files import lint_bytes
from bnlint.engine.results import FileResult, LintOptions
from bnlint.registry import all_rules

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


@dataclass
class Linted:
    """A document's findings with the text their rows count in."""

    findings: list[Finding]
    text: str
    problem: str | None = None


@dataclass
class NotebookLinted:
    """A notebook's findings, by cell URI, and each cell's text."""

    cells: dict[str, Linted] = field(default_factory=dict)
    problem: str | None = None


class LintState:
    """The engine session and what the server knows about the configuration."""

    def __init__(self) -> None:
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
            result = lint_bytes(
                text.encode("utf-8"), str(path), _default_settings(), LintOptions(fix=fix)
            )
            result.notice = f"configuration error, default rules used: {error}"
            return result

    def lint_document(self, text: str, path: Path) -> Linted:
        if path.suffix not in LINTED_SUFFIXES:
            return Linted([], text)
        result = self.lint_text(text, path)
        return Linted(result.findings, text, _problem_of(result))

    def fixed_document(self, text: str, path: Path) -> str | None:
        """The buffer with every safe fix applied, or None when nothing applies."""
        if path.suffix not in LINTED_SUFFIXES:
            return None
        return self.lint_text(text, path, fix=True).fixed_text

    def lint_notebook(self, cells: Sequence[Cell], path: Path) -> NotebookLinted:
        """Lint the cells as one notebook; findings keyed by the URI of their cell."""
        linted = NotebookLinted({cell.uri: Linted([], cell.text) for cell in cells})
        if not any(cell.code for cell in cells):
            return linted
        result = self.lint_text(notebook_json(cells), _notebook_path(path))
        linted.problem = _problem_of(result)
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
        fixed = self.lint_text(notebook_json(cells), _notebook_path(path), fix=True).fixed_text
        if fixed is None:
            return {}
        raw_cells = json.loads(fixed)["cells"]
        texts = {}
        for cell, raw in zip(cells, raw_cells, strict=True):
            source = raw["source"]
            texts[cell.uri] = (cell.text, "".join(source) if isinstance(source, list) else source)
        return texts


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
                read[step.filename] = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                return None
        return path.as_uri(), read[step.filename]

    return locate
