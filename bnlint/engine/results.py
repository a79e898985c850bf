"""What the engine hands back for one file, and the options a run lints with."""

from __future__ import annotations

from dataclasses import dataclass, field

from bnlint.diagnostics import Finding
from bnlint.source import SourceText


@dataclass(frozen=True)
class LintOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    # Skip files without any enabled rule's trigger token (off only to prove it loses nothing).
    prefilter: bool = True


# Lint only, no fixes: the default of every call that takes options.
DEFAULT_OPTIONS = LintOptions()


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
    # Files besides this one that the analyses read (configs a script loads), by path, with
    # their content digest (None: absent): the cache entry is valid only while they match.
    dependencies: dict[str, str | None] = field(default_factory=dict)
