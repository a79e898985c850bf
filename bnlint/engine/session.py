"""`LintSession`: one run of the linter, the same for every front end.

The command line, `bnlint.api` and the language server all lint through a session:
configuration, discovery, the cross-file project index, the cache, worker processes and
the fix loop are decided here once, so a finding one front end reports, the others do too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bnlint.cache import Cache, cache_directory, settings_key
from bnlint.catalog import RULES
from bnlint.config import ConfigResolver, FileSettings
from bnlint.discovery import Discovered, discover
from bnlint.engine.files import lint_bytes, lint_source
from bnlint.engine.results import DEFAULT_OPTIONS, FileResult, LintOptions
from bnlint.engine.workers import Job, build_project, default_workers, lint_many
from bnlint.fixes import (
    ConcurrentModification,
    digest,
    remove_leftovers,
    temporary_folder,
    write_atomic,
)
from bnlint.notebook import NOTEBOOK_SUFFIX
from bnlint.progress import ProgressBar
from bnlint.source import SourceText, UndecodableSource, decode
from bnlint.suppression import add_noqa

if TYPE_CHECKING:
    from bnlint.analysis.project import ProjectIndex

# The cache folder of per-file project-index summaries (beside the settings-keyed ones).
_INDEX_CACHE = "project-index"
# Rules whose analyses read the cross-file project index, from each rule's own metadata.
PROJECT_RULES = frozenset(code for code, info in RULES.items() if info.needs_project)


@dataclass
class RunResult:
    """What a session's run over paths found: one result per file, in discovery order."""

    files: list[FileResult] = field(default_factory=list)
    discovered: list[Discovered] = field(default_factory=list)

    @property
    def fixes_applied(self) -> int:
        return sum(result.fixes_applied for result in self.files)


def lint_text(
    text: str,
    filename: str,
    settings: FileSettings,
    options: LintOptions = DEFAULT_OPTIONS,
    project: ProjectIndex | None = None,
) -> FileResult:
    """Lint text that is already decoded, as an editor holds it (`lint_buffer`).

    The text is never encoded and decoded again: a coding cookie (`# -*- coding: latin-1
    -*-`) says how the file is stored on disk, not what this text is, and decoding the
    buffer's UTF-8 with it would turn `café` into `cafÃ©`, in the findings and the fixes.
    """
    if filename.endswith(NOTEBOOK_SUFFIX):
        # Notebook JSON: UTF-8 by definition, whatever a cell declares.
        data = text.encode("utf-8", errors="surrogatepass")
        return lint_bytes(data, filename, settings, options, project)
    return lint_source(SourceText(text), filename, settings, options, project)


class LintSession:
    """Lints paths, standard input or an editor's buffer with one configuration.

    >>> session = LintSession(ConfigResolver(CliOverrides()))
    >>> [f.code for f in session.run(["src"]).files[0].findings]
    ['BN101']
    """

    def __init__(
        self,
        resolver: ConfigResolver,
        options: LintOptions = DEFAULT_OPTIONS,
        *,
        use_cache: bool = True,
        cache_dir: Path | None = None,
        workers: int | None = None,
        force_exclude: bool = False,
    ) -> None:
        self.resolver = resolver
        self.options = options
        self.use_cache = use_cache
        self.cache_dir = cache_dir
        self.workers = workers or default_workers()
        self.force_exclude = force_exclude
        # Editor buffers: the index of the project around a file, without that file.
        self._projects: dict[tuple[Path, str], ProjectIndex | None] = {}
        # Editor buffers: each project root's files, and the name of each (by resolved
        # path), found once: a walk of the tree on every keystroke costs more than the lint.
        self._project_files: dict[Path, tuple[list[Discovered], dict[Path, str]]] = {}

    # --- configuration and discovery -------------------------------------------------

    def settings_for(self, path: Path) -> FileSettings:
        return self.resolver.settings_for(path).for_file(path)

    def discover(self, targets: Sequence[str]) -> list[Discovered]:
        """The files to lint under `targets` (raises MissingPath, ConfigError)."""
        return list(discover(list(targets), self.resolver, force_exclude=self.force_exclude))

    def cache_folder(self, path: Path) -> Path:
        """The cache folder for files configured like `path`: at their project's root."""
        return cache_directory(self.resolver.settings_for(path).root, self.cache_dir)

    def _cache(self, path: Path, key: str) -> Cache | None:
        return Cache.open(self.cache_folder(path), key) if self.use_cache else None

    # --- the project index -----------------------------------------------------------

    def project(
        self, discovered: Sequence[Discovered], settings: Sequence[FileSettings]
    ) -> ProjectIndex | None:
        """The cross-file index, when two files or more are linted and a rule reads it."""
        if len(discovered) < 2 or not any(s.enabled & PROJECT_RULES for s in settings):
            return None
        return self._index(discovered)

    def _index(self, items: Sequence[Discovered]) -> ProjectIndex:
        summaries = self._cache(items[0].path, _INDEX_CACHE)
        return build_project(
            [(item.path, item.display) for item in items],
            self.workers,
            summaries.folder if summaries is not None else None,
        )

    def _editor_project(self, path: Path) -> tuple[ProjectIndex | None, str]:
        """The index of the project around `path` (every file but `path` itself, whose
        text is the buffer's), and the name `path` has in it."""
        settings = self.resolver.settings_for(path)
        root = settings.root if settings.path is not None else path.parent
        if root not in self._project_files:
            found = self.discover([str(root)])
            self._project_files[root] = (found, {i.path.resolve(): i.display for i in found})
        discovered, displays = self._project_files[root]
        display = displays.get(path.resolve(), str(path))
        key = (root, display)
        if key not in self._projects:
            others = [item for item in discovered if item.display != display]
            self._projects[key] = self._index(others) if others else None
        return self._projects[key], display

    def forget_project(self) -> None:
        """Drop the editor's project indexes and file lists, after files changed on disk."""
        self._projects.clear()
        self._project_files.clear()

    # --- linting -----------------------------------------------------------------------

    def run(self, targets: Sequence[str], *, show_progress: bool = False) -> RunResult:
        """Lint every file under `targets` (raises MissingPath, ConfigError)."""
        discovered = self.discover(targets)
        settings = [self.settings_for(item.path) for item in discovered]
        project = self.project(discovered, settings)
        # Findings of the project rules also depend on the other files.
        project_digest = project.digest() if project is not None else ""
        caches: dict[tuple[Path, str], Cache | None] = {}
        jobs = []
        for item, file_settings in zip(discovered, settings, strict=True):
            key = settings_key(file_settings, self.options, project_digest)
            cache = None
            if self.use_cache and not self.options.fix:
                folder = self.cache_folder(item.path)
                if (folder, key) not in caches:
                    caches[folder, key] = Cache.open(folder, key)
                cache = caches[folder, key]
            jobs.append(Job(item.path, item.display, file_settings, cache))
        with ProgressBar(len(jobs), enabled=show_progress) as progress:
            files = lint_many(jobs, self.options, self.workers, progress, project)
        return RunResult(files, discovered)

    def lint_data(self, data: bytes, filename: str, path: Path) -> FileResult:
        """Lint content that is not read from disk (standard input), configured as `path`."""
        return lint_bytes(data, filename, self.settings_for(path.absolute()), self.options)

    def lint_buffer(self, text: str, path: Path, *, fix: bool = False) -> FileResult:
        """Lint an editor's unsaved text of `path` against the rest of its project on disk."""
        absolute = path.absolute()
        settings = self.settings_for(absolute)
        project, display = (
            self._editor_project(absolute)
            if settings.enabled & PROJECT_RULES and absolute.parent.is_dir()
            else (None, str(path))
        )
        options = LintOptions(fix=fix, unsafe_fixes=self.options.unsafe_fixes)
        return lint_text(text, display, settings, options, project)

    # --- writing fixes -------------------------------------------------------------------

    def add_noqa(self, run: RunResult) -> tuple[int, list[str]]:
        """Suppress every finding of `run` where it is: lines changed, and errors, if any."""
        by_name = {item.display: item.path for item in run.discovered}
        changed = 0
        errors = []
        for result in run.files:
            if result.filename not in by_name:
                continue
            try:
                changed += _add_noqa_to(by_name[result.filename], result)
            except ConcurrentModification:
                errors.append(f"{result.filename} changed while bnlint read it; not written")
            except (OSError, UndecodableSource) as error:
                errors.append(f"cannot write {result.filename}: {error}")
        return changed, errors

    def write_fixes(self, run: RunResult) -> list[str]:
        """Write every fixed file over the bytes it was linted from; the errors, if any.

        A file that changed on disk since it was read is left alone.
        """
        by_name = {item.display: item.path for item in run.discovered}
        scratch = self._remove_fix_leftovers(run)
        errors = []
        for result in run.files:
            if result.fixed_text is None or result.source is None:
                continue
            path = by_name[result.filename]
            try:
                original = result.original if result.original is not None else path.read_bytes()
                data = result.source.encode(result.fixed_text)
                write_atomic(path, data, digest(original), scratch.get(path.parent))
            except ConcurrentModification:
                errors.append(f"{result.filename} changed while bnlint was fixing it; not written")
            except OSError as error:
                errors.append(f"cannot write {result.filename}: {error.strerror or error}")
        return errors

    def _remove_fix_leftovers(self, run: RunResult) -> dict[Path, Path | None]:
        """Remove what a killed `--fix` left; the folder to write each folder's fixes in.

        Fixed text is written first to a folder in the cache (out of the user's folders)
        where there is a cache; the temporary files of a killed run are removed here,
        there and beside the files of this run.
        """
        scratch: dict[Path, Path | None] = {}
        for item in run.discovered:
            folder = item.path.parent
            if folder not in scratch:
                cache = self.cache_folder(item.path) if self.use_cache else None
                scratch[folder] = temporary_folder(cache) if cache is not None else None
                remove_leftovers(folder, beside_files=True)
        for temporary in set(scratch.values()):
            if temporary is not None:
                remove_leftovers(temporary, beside_files=False)
        return scratch


def _add_noqa_to(path: Path, result: FileResult) -> int:
    """Write `# noqa` comments for `result`'s findings into `path`; the lines changed."""
    source = result.source
    if source is None or not result.findings or result.filename.endswith(NOTEBOOK_SUFFIX):
        # A notebook's rows count within cells; its JSON text takes no comments.
        return 0
    text, changed = add_noqa(source, result.findings)
    if not changed:
        return 0
    data = path.read_bytes()
    if decode(data).text != source.text:
        raise ConcurrentModification(str(path))
    write_atomic(path, source.encode(text), digest(data))
    return changed


def original_text(run: RunResult, result: FileResult) -> str:
    """The text a fixed file had before its fixes, for a diff."""
    by_name = {item.display: item.path for item in run.discovered}
    data = result.original if result.original is not None else by_name[result.filename].read_bytes()
    encoding = result.source.encoding if result.source is not None else "utf-8"
    return data.decode(encoding, errors="replace").removeprefix("\ufeff")


__all__ = ["PROJECT_RULES", "LintSession", "RunResult", "original_text"]
