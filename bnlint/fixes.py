"""Fixes: the fix-and-relint loop, and writing fixed files atomically.

The loop applies the fixes that do not overlap, lints the new text again, and repeats
until nothing more applies (a fixed point), as ruff does: a fix that the previous round
made unnecessary is never applied, because the finding that carried it is gone.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bnlint.diagnostics import Applicability, Edit, Finding, Span
from bnlint.source import SourceText
from bnlint.suppression import unsuppressed

# A fix that keeps producing new fixes (a rule's bug) stops here instead of looping.
MAX_FIX_ROUNDS = 10

# Lints a text again: its findings (before suppression) and a notice, if any.
Relint = Callable[[SourceText], tuple[list[Finding], "str | None"]]


def apply_edits(source: SourceText, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (the caller has dropped overlapping ones)."""
    text = source.text
    for edit in sorted(edits, key=lambda e: e.span, reverse=True):
        start = source.offset(edit.span.start)
        end = source.offset(edit.span.end)
        text = text[:start] + edit.content + text[end:]
    return text


def applicable_fixes(findings: Sequence[Finding], unsafe: bool) -> list[Finding]:
    """The findings whose fixes to apply this round.

    Safe fixes go first, alone: an unsafe fix is applied only to a text no safe fix still
    changes, so two fixes for one problem (`model.eval` -> `model.eval()` and an inserted
    `model.eval()`) never both land. A fix overlapping an earlier one waits a round.
    """
    for applicability in (Applicability.SAFE, Applicability.UNSAFE):
        if applicability is Applicability.UNSAFE and not unsafe:
            break
        chosen: list[Finding] = []
        taken: list[Span] = []
        for finding in sorted(findings, key=Finding.sort_key):
            fix = finding.fix
            if fix is None or fix.applicability is not applicability:
                continue
            spans = [edit.span for edit in fix.edits]
            if any(_overlaps(span, other) for span in spans for other in taken):
                continue
            taken.extend(spans)
            chosen.append(finding)
        if chosen:
            return chosen
    return []


def _overlaps(a: Span, b: Span) -> bool:
    return (a.start < b.end and b.start < a.end) or a.start == b.start


@dataclass
class FixOutcome:
    """The text after the loop, its remaining findings (before suppression), and counts."""

    source: SourceText
    findings: list[Finding]
    notice: str | None
    # Fixes applied over all rounds (one per finding fixed, whatever its number of edits).
    applied: int


def fix_until_stable(
    source: SourceText,
    findings: list[Finding],
    notice: str | None,
    relint: Relint,
    *,
    unsafe: bool,
) -> FixOutcome:
    """Fix, relint and repeat until no fix applies; `findings` are those of `source`."""
    current = source
    applied = 0
    for _ in range(MAX_FIX_ROUNDS):
        fixed = applicable_fixes(unsuppressed(findings, current), unsafe)
        if not fixed:
            break
        edits = [edit for finding in fixed if finding.fix for edit in finding.fix.edits]
        current = SourceText(apply_edits(current, edits), current.encoding, current.bom)
        applied += len(fixed)
        findings, notice = relint(current)
    return FixOutcome(current, findings, notice, applied)


class ConcurrentModification(Exception):
    """The file changed on disk between bnlint reading it and writing the fix."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, expected_digest: str | None = None) -> None:
    """Replace `path` with `data` so that readers see the old file or the new, never half.

    The new content goes to a temporary file in the same folder (same file system),
    takes the old file's permissions and is renamed over it. When `expected_digest`
    is given and the file on disk no longer matches it, nothing is written.
    """
    # Through a symlink to the file it names: replacing the link itself would leave the
    # real file unfixed and the link turned into a copy.
    path = Path(os.path.realpath(path))
    if expected_digest is not None and digest(path.read_bytes()) != expected_digest:
        raise ConcurrentModification(str(path))
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".bnlint"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def unified_diff(filename: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{filename}",
            tofile=f"b/{filename}",
        )
    )
