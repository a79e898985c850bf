"""Paths -> files to lint: directories walked, .gitignore and excludes honoured."""

from __future__ import annotations

import errno
import os
import stat
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


class PathError(Exception):
    """A path named on the command line that bnlint cannot lint (the command exits 2)."""

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(f"path `{argument}` {reason}")
        self.argument = argument


class MissingPath(PathError):
    """A path named on the command line does not exist."""

    def __init__(self, argument: str) -> None:
        super().__init__(argument, "does not exist")


class NotRegularFile(OSError):
    """A FIFO, socket or device where a source file was expected: reading a FIFO waits for
    a writer that may never come, and reading a device may never end."""


class FileTooLarge(OSError):
    """A file over the size bnlint reads; raised before any of it is read."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over the {limit} bytes bnlint reads")
        self.size = size
        self.limit = limit


def special_kind(mode: int) -> str | None:
    """What a non-regular, non-directory file is ("a FIFO (named pipe)"); None for regular
    files and directories."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _check_readable(path: Path, info: os.stat_result, limit: int) -> None:
    kind = special_kind(info.st_mode)
    if kind is not None:
        raise NotRegularFile(errno.EINVAL, f"{kind}, not a regular file", str(path))
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise FileTooLarge(info.st_size, limit)


# Regular files ignore O_NONBLOCK; a FIFO swapped in after the first check then opens at
# once instead of waiting for a writer, and the second check (on the open file) refuses it.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    Raises NotRegularFile for FIFOs, sockets and devices (never opened blocking, never read),
    FileTooLarge before reading a byte of a larger file (a sparse 1 GB file costs nothing),
    and OSError as reading does (a directory raises IsADirectoryError).
    """
    _check_readable(path, os.stat(path), limit)
    descriptor = os.open(path, _OPEN_FLAGS)
    with open(descriptor, "rb", closefd=True) as handle:
        info = os.fstat(descriptor)
        # The path may name another file since the stat above (a swap, a rename).
        _check_readable(path, info, limit)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        data = handle.read(info.st_size + 1)
        if len(data) > info.st_size:
            # Growing while read: read on, but never past the limit.
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise FileTooLarge(len(data), limit)
    return data


def _named_path_problem(argument: str) -> PathError | None:
    """Why a path named on the command line cannot be linted; None when it can."""
    try:
        info = os.stat(argument)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return PathError(
                argument, "is a symlink loop (a symbolic link that leads back to itself)"
            )
        if isinstance(error, FileNotFoundError) and os.path.islink(argument):
            return PathError(argument, "is a broken symbolic link (what it names does not exist)")
        if isinstance(error, FileNotFoundError | NotADirectoryError):
            return MissingPath(argument)
        return PathError(argument, f"cannot be read ({error.strerror or error})")
    kind = special_kind(info.st_mode)
    if kind is not None:
        return PathError(argument, f"is {kind}, not a regular file: bnlint lints source files only")
    return None


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
    default folders or `exclude` settings rule them out. A named path that cannot be linted
    (missing, a symlink loop, a FIFO or device) raises PathError; FIFOs and devices found
    in a directory are yielded, and reading them (`read_regular`) refuses them unopened.
    """
    seen: set[Path] = set()
    gitignores = _GitIgnores()
    for argument in arguments:
        root = Path(argument)
        problem = _named_path_problem(argument)
        if problem is not None:
            raise problem
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
