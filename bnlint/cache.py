"""Per-file results keyed by content, settings and version, like ruff's cache.

Layout: `.bnlint_cache/<version>-<code stamp>/<settings key>/<file key>.json`, at the project
root; the code stamp changes whenever bnlint's own modules do (an edited checkout, a reinstall),
so a cache never answers with findings an older build of the rules produced. The folder holds a
CACHEDIR.TAG and a `.gitignore` of `*`. Entries are JSON (never pickle: a cache folder
inside a linted repository must not be a way to run code), written to a temporary file
and renamed, so two runs sharing the cache never see half an entry; an entry that does
not parse is ignored and rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
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


def _position(data: dict[str, int]) -> Position:
    return Position(int(data["row"]), int(data["column"]))


def finding_from_json(data: dict[str, Any]) -> Finding:
    fix = None
    if data.get("fix"):
        raw = data["fix"]
        fix = Fix(
            Applicability(raw["applicability"]),
            raw["message"],
            tuple(
                Edit(e["content"], Span(_position(e["location"]), _position(e["end_location"])))
                for e in raw["edits"]
            ),
        )
    return Finding(
        code=data["code"],
        name=data["name"],
        severity=Severity(data["severity"]),
        message=data["message"],
        hint=data.get("hint", ""),
        filename=data["filename"],
        span=Span(_position(data["location"]), _position(data["end_location"])),
        fix=fix,
        confirmed=bool(data.get("confirmed", False)),
        cell=data.get("cell"),
        count=int(data.get("count", 1)),
        related=tuple(RelatedLocation.from_json(step) for step in data.get("related", ())),
    )


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
            raw = json.loads(self._entry(filename, data).read_text(encoding="utf-8"))
            dependencies = raw.get("dependencies", {})
            if any(Cache.digest_of(Path(path)) != known for path, known in dependencies.items()):
                return None
            return [finding_from_json(item) for item in raw["findings"]], raw.get("notice")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

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
        try:
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(temporary, entry)
        except OSError:
            pass

    @staticmethod
    def digest_of(path: Path) -> str | None:
        """The content digest of a file an analysis read; None when it cannot be read."""
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
