"""Per-file results keyed by content, settings and version, like ruff's cache.

Layout: `.bnlint_cache/<version>-<code stamp>/<settings key>/<file key>.json`, at the project
root; the code stamp changes whenever bnlint's own modules do (an edited checkout, a reinstall),
so a cache never answers with findings an older build of the rules produced. The folder holds a
CACHEDIR.TAG and a `.gitignore` of `*`. Entries are JSON (never pickle: a cache folder
inside a linted repository must not be a way to run code), written to a temporary file in
`<version>-<code stamp>/tmp/` and renamed, so two runs sharing the cache never see half an
entry. A write that fails (a full disk) removes its temporary file, and each run removes
the ones a killed run left. An entry that does not parse, or parses to anything but the
shape bnlint writes, is a miss and is rewritten.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnlint._version import __version__
from bnlint.diagnostics import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Position,
    RelatedLocation,
    Severity,
    Span,
)

CACHE_DIRECTORY = ".bnlint_cache"
# Where the cache goes when `--cache-dir` does not say.
CACHE_DIR_VARIABLE = "BNLINT_CACHE_DIR"
# Where entries are written before they are renamed into place, beside the key folders.
TEMPORARY_FOLDER = "tmp"
# A temporary file older than this belongs to no live run (a write takes milliseconds).
STALE_TEMPORARY_SECONDS = 60.0
# Entries, and the files an entry depends on, are read whole; a larger one is unreadable.
_MAX_READ_BYTES = 64_000_000
# Regular files ignore O_NONBLOCK; a FIFO opens at once instead of waiting for a writer.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by bnlint.\n"


def cache_directory(project_root: Path, override: Path | None = None) -> Path:
    """`--cache-dir`, else `$BNLINT_CACHE_DIR`, else `.bnlint_cache` at the project root
    (the folder of the configuration file), wherever the command runs from."""
    if override is not None:
        return override
    from_environment = os.environ.get(CACHE_DIR_VARIABLE)
    if from_environment:
        return Path(from_environment)
    return project_root / CACHE_DIRECTORY


def remove_cache(folder: Path) -> bool:
    """Delete a cache folder; False when there is none. A folder without bnlint's cache tag
    is left alone: `--cache-dir` may name the wrong folder."""
    if not folder.is_dir():
        return False
    if not (folder / "CACHEDIR.TAG").is_file():
        raise OSError(f"{folder} is not a bnlint cache (no CACHEDIR.TAG)")
    shutil.rmtree(folder)
    return True


def _stable(value: object) -> object:
    """A deterministic stand-in for repr(): sets are sorted (their order varies per process)."""
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_stable(item)) for item in value)
    if isinstance(value, dict):
        return sorted((repr(k), repr(_stable(v))) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_stable(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return [
            type(value).__name__,
            *((name, _stable(getattr(value, name))) for name in value.__dataclass_fields__),
        ]
    return value


def settings_key(*parts: object) -> str:
    """A short digest of everything besides the file's bytes that decides its findings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(_stable(part)).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class InvalidEntry(ValueError):
    """A cache entry that parses as JSON but is not what bnlint writes (a corrupt or
    hand-edited file): a miss, never a crash."""


# Rows, columns and counts beyond this are no source file's.
_MAX_NUMBER = 2**31


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidEntry(f"{what}: expected an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidEntry(f"{what}: expected a list")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidEntry(f"{what}: expected a string")
    return value


def _optional_text(value: object, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _number(value: object, what: str, low: int = 0) -> int:
    # bool is an int to Python, and 1e999 parses as a float (inf): neither is a row.
    if type(value) is not int or not low <= value < _MAX_NUMBER:
        raise InvalidEntry(f"{what}: expected a whole number from {low}")
    return value


def _optional_cell(value: object) -> int | None:
    return None if value is None else _number(value, "cell", 1)


def _position(value: object) -> Position:
    data = _object(value, "position")
    return Position(_number(data.get("row"), "row"), _number(data.get("column"), "column"))


def _span(data: dict[str, Any]) -> Span:
    return Span(_position(data.get("location")), _position(data.get("end_location")))


def _choice(kind: type[Severity] | type[Applicability], value: object) -> Any:
    try:
        return kind(_text(value, kind.__name__))
    except ValueError:
        raise InvalidEntry(f"unknown {kind.__name__}: {value!r}") from None


def _fix(value: object) -> Fix | None:
    if value is None:
        return None
    data = _object(value, "fix")
    edits = []
    for item in _list(data.get("edits"), "edits"):
        edit = _object(item, "edit")
        edits.append(Edit(_text(edit.get("content"), "content"), _span(edit)))
    return Fix(
        _choice(Applicability, data.get("applicability")),
        _text(data.get("message"), "fix message"),
        tuple(edits),
    )


def _related(value: object) -> RelatedLocation:
    data = _object(value, "related")
    return RelatedLocation(
        filename=_text(data.get("filename"), "filename"),
        span=_span(data),
        message=_text(data.get("message"), "message"),
        cell=_optional_cell(data.get("cell")),
    )


def finding_from_json(value: object) -> Finding:
    """A finding as the cache stores it; raises InvalidEntry for anything else."""
    data = _object(value, "finding")
    confirmed = data.get("confirmed", False)
    if not isinstance(confirmed, bool):
        raise InvalidEntry("confirmed: expected true or false")
    return Finding(
        code=_text(data.get("code"), "code"),
        name=_text(data.get("name"), "name"),
        severity=_choice(Severity, data.get("severity")),
        message=_text(data.get("message"), "message"),
        hint=_text(data.get("hint", ""), "hint"),
        filename=_text(data.get("filename"), "filename"),
        span=_span(data),
        fix=_fix(data.get("fix")),
        confirmed=confirmed,
        cell=_optional_cell(data.get("cell")),
        count=_number(data.get("count", 1), "count", 1),
        related=tuple(_related(step) for step in _list(data.get("related", []), "related")),
    )


@dataclass(frozen=True)
class _Entry:
    findings: list[Finding]
    notice: str | None
    dependencies: dict[str, str | None]


def _read_entry(text: str) -> _Entry:
    """Parse and check one entry; raises ValueError (InvalidEntry) or RecursionError."""
    data = _object(json.loads(text), "entry")
    dependencies = _object(data.get("dependencies", {}), "dependencies")
    for path, known in dependencies.items():
        _optional_text(known, f"digest of {path}")
    return _Entry(
        [finding_from_json(item) for item in _list(data.get("findings"), "findings")],
        _optional_text(data.get("notice"), "notice"),
        dependencies,
    )


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes. Paths here come from the cache folder and its entries: a
    FIFO or device there (reading may block or never end) or a huge file raises OSError."""
    descriptor = os.open(path, _OPEN_FLAGS)
    with open(descriptor, "rb", closefd=True) as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_READ_BYTES:
            raise OSError(f"{path}: not a regular file of at most {_MAX_READ_BYTES} bytes")
        # A file growing meanwhile is read to its size at the fstat.
        return handle.read(info.st_size)


def write_entry(entry: Path, text: str) -> bool:
    """Write a cache entry whole or not at all; whether it was written.

    `entry` is `<version folder>/<key>/<name>.json`; the temporary file goes to the version
    folder's `tmp/`, where a run finds a killed run's leftovers without listing the
    entries. A failed write (a full disk, a read-only folder) removes its temporary file.
    """
    scratch = entry.parent.parent / TEMPORARY_FOLDER
    try:
        scratch.mkdir(exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=scratch, suffix=".tmp")
    except OSError:
        return False
    try:
        try:
            view = memoryview(text.encode("utf-8"))
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        os.replace(temporary, entry)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            return False
        raise
    return True


_SWEPT: set[Path] = set()


def remove_stale_temporaries(scratch: Path, older_than: float = STALE_TEMPORARY_SECONDS) -> int:
    """Delete the `*.tmp` files in `scratch` older than `older_than` seconds (runs that were
    killed mid-write, or whose clean-up failed too); how many were removed. Younger ones
    may be another run's writes in progress."""
    removed = 0
    limit = time.time() - older_than
    try:
        with os.scandir(scratch) as entries:
            for item in entries:
                if not item.name.endswith(".tmp"):
                    continue
                try:
                    if item.stat(follow_symlinks=False).st_mtime < limit:
                        os.unlink(item.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        return removed
    return removed


def _to_json(finding: Finding) -> dict[str, Any]:
    data = finding.to_json()
    # The JSON format joins message and hint; the cache keeps them apart for the text format.
    data["message"] = finding.message
    data["hint"] = finding.hint
    return data


@functools.cache
def cache_version() -> str:
    """bnlint's version and a stamp of its own modules (paths, sizes, modification times).

    >>> cache_version()
    '0.1.0-3f9a0c21'
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for module in sorted(package.rglob("*.py")):
        stat = module.stat()
        digest.update(
            f"{module.relative_to(package)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
        )
    return f"{__version__}-{digest.hexdigest()[:8]}"


@dataclass(frozen=True)
class Cache:
    """A handle on one settings key's folder; picklable, so worker processes share it."""

    folder: Path

    @classmethod
    def open(cls, base: Path, key: str) -> Cache | None:
        """The cache folder `base` (see `cache_directory`), or None when it cannot be created
        (a read-only tree)."""
        try:
            base.mkdir(parents=True, exist_ok=True)
            tag = base / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(_TAG, encoding="utf-8")
            ignore = base / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            folder = base / cache_version() / key
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        scratch = folder.parent / TEMPORARY_FOLDER
        if scratch not in _SWEPT:  # once per process: every key folder shares it
            _SWEPT.add(scratch)
            remove_stale_temporaries(scratch)
        return cls(folder)

    def _entry(self, filename: str, data: bytes) -> Path:
        digest = hashlib.sha256(filename.encode("utf-8", "surrogatepass") + b"\0" + data)
        return self.folder / f"{digest.hexdigest()[:32]}.json"

    def get(self, filename: str, data: bytes) -> tuple[list[Finding], str | None] | None:
        """Cached (findings, notice) for this exact content, or None on a miss.

        An entry whose analyses read other files (a config next to a script) is a miss
        once any of them changed, appeared or disappeared.
        """
        try:
            entry = _read_entry(_read_regular(self._entry(filename, data)).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            # Unreadable, not JSON (UnicodeDecodeError is a ValueError), nested too deeply
            # for the parser, or not the shape bnlint writes: linted afresh and rewritten.
            return None
        if any(Cache.digest_of(Path(p)) != known for p, known in entry.dependencies.items()):
            return None
        return entry.findings, entry.notice

    def put(
        self,
        filename: str,
        data: bytes,
        findings: list[Finding],
        notice: str | None,
        dependencies: Mapping[str, str | None] | None = None,
    ) -> None:
        entry = self._entry(filename, data)
        payload = json.dumps(
            {
                "findings": [_to_json(f) for f in findings],
                "notice": notice,
                "dependencies": dict(dependencies or {}),
            }
        )
        write_entry(entry, payload)

    @staticmethod
    def digest_of(path: Path) -> str | None:
        """The content digest of a file an analysis read; None when it cannot be read."""
        try:
            return hashlib.sha256(_read_regular(path)).hexdigest()
        except OSError:
            return None
