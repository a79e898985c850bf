"""Paths -> files to lint: directories walked, .gitignore and excludes honoured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from bnlint.config import ConfigResolver

LINTED_SUFFIXES = (".py", ".pyi", ".ipynb")
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".env",
        "build",
        "dist",
        "__pycache__",
        "node_modules",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".bnlint_cache",
        ".ipynb_checkpoints",
        "site-packages",
    }
)


class MissingPath(Exception):
    """A path named on the command line does not exist."""


@dataclass(frozen=True)
class Discovered:
    path: Path
    # The name shown in output: the user's argument joined with the path below it.
    display: str


def _display(argument: str, root: Path, path: Path) -> str:
    if path == root:
        return argument
    relative = path.relative_to(root).as_posix()
    if argument in (".", "./"):
        return relative
    return f"{argument.rstrip('/')}/{relative}"


class _GitIgnores:
    """The .gitignore files of the directories walked so far, each relative to its folder."""

    def __init__(self) -> None:
        self._specs: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, directory: Path) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._specs:
            spec = None
            ignore_file = directory / ".gitignore"
            try:
                if ignore_file.is_file():
                    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
            self._specs[directory] = spec
        return self._specs[directory]

    def ignored(self, path: Path, is_dir: bool, top: Path) -> bool:
        """Whether a .gitignore in `top` or below, on the way to `path`, ignores it."""
        directory = path.parent
        while True:
            spec = self._spec(directory)
            if spec is not None:
                relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
                if spec.match_file(relative):
                    return True
            if directory == top or directory.parent == directory:
                return False
            directory = directory.parent


def _resolve(path: Path) -> Path:
    """The real path, or the absolute one for a symlink loop (linting it says what is wrong)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _force_excluded(path: Path, resolver: ConfigResolver) -> bool:
    """Whether `exclude` settings or the default folders rule out a path named directly."""
    settings = resolver.settings_for(path)
    if settings.is_excluded(path):
        return True
    try:
        # Folders below the project root only: a checkout may itself live under `build/`.
        inside = _resolve(path).relative_to(settings.root.resolve()).parent.parts
    except ValueError:
        return False
    return any(part in DEFAULT_EXCLUDED_DIRS or part.endswith(".egg-info") for part in inside)


def discover(
    arguments: list[str], resolver: ConfigResolver, *, force_exclude: bool = False
) -> Iterator[Discovered]:
    """Yield the files to lint, each once, in a deterministic order.

    Files named directly are linted unless `force_exclude` (what pre-commit needs: it names
    every staged file); files found by walking a directory are skipped when .gitignore, the
    default folders or `exclude` settings rule them out.
    """
    seen: set[Path] = set()
    gitignores = _GitIgnores()
    for argument in arguments:
        root = Path(argument)
        if not root.exists():
            raise MissingPath(argument)
        if force_exclude and _force_excluded(root, resolver):
            continue
        if not root.is_dir():
            key = _resolve(root)
            if key not in seen:
                seen.add(key)
                yield Discovered(root, argument)
            continue
        top = _resolve(root)
        for directory, subdirs, files in os.walk(root):
            here = Path(directory)
            settings = resolver.settings_for(here / "__init__.py")
            kept = []
            for name in sorted(subdirs):
                child = here / name
                if name in DEFAULT_EXCLUDED_DIRS or name.endswith(".egg-info"):
                    continue
                if gitignores.ignored(
                    top / child.relative_to(root), True, top
                ) or settings.is_excluded(child):
                    continue
                kept.append(name)
            subdirs[:] = kept
            for name in sorted(files):
                if not name.endswith(LINTED_SUFFIXES):
                    continue
                path = here / name
                if gitignores.ignored(
                    top / path.relative_to(root), False, top
                ) or settings.is_excluded(path):
                    continue
                key = _resolve(path)
                if key in seen:
                    continue
                seen.add(key)
                yield Discovered(path, _display(argument, root, path))
