"""Fixes: the fix-and-relint loop, and writing fixed files atomically.

The loop applies the fixes that do not overlap, lints the new text again, and repeats
until nothing more applies (a fixed point), as ruff does: a fix that the previous round
made unnecessary is never applied, because the finding that carried it is gone. Each
round's text is parsed before it is kept: a fix that would break the code is dropped and
reported as an internal error, never written.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import errno
import hashlib
import os
import re
import stat
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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


# How far a text gets through Python's front end: each level passes the ones below it.
_LIBCST, _AST, _COMPILE = 1, 2, 3


def parse_level(text: str) -> int:
    """The strictest check `text` passes: compiles, parses (`ast`), libcst reads it, or 0.

    A file written for a newer Python than this one fails `ast` and still parses in libcst,
    whose grammar is newer: a fix to it is held to libcst's parse.
    """
    if parse_failure(text, _COMPILE) is None:
        return _COMPILE
    if parse_failure(text, _AST) is None:
        return _AST
    return _LIBCST if parse_failure(text, _LIBCST) is None else 0


def parse_failure(text: str, level: int) -> str | None:
    """Why `text` fails the check of `level` (see parse_level); None when it passes."""
    try:
        if level >= _COMPILE:
            with warnings.catch_warnings():
                # `assert (x, "message")` and the like warn; the user sees them from Python.
                warnings.simplefilter("ignore")
                compile(text, "<fixed>", "exec", dont_inherit=True)
        elif level == _AST:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ast.parse(text)
        elif level == _LIBCST:
            import libcst  # only when a file Python cannot parse is fixed

            try:
                libcst.parse_module(text)
            except libcst.ParserSyntaxError as error:
                return f"{error.message} (line {error.raw_line})"
    except SyntaxError as error:
        return f"{error.msg} (line {error.lineno})"
    except (ValueError, RecursionError, MemoryError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def still_parses(before: str, after: str) -> str | None:
    """Why the edited text `after` fails a check that `before` passes; None when it does not.

    For front ends that apply one finding's fix themselves (an editor's quick fix), and for
    the fix loop: a fix never turns code that compiles into code that does not.
    """
    return parse_failure(after, parse_level(before))


@dataclass(frozen=True)
class RejectedFix:
    """A fix left out because the text it produced does not parse: a bug in its rule."""

    code: str
    title: str
    row: int
    reason: str

    def describe(self) -> str:
        return (
            f"{self.code}'s fix `{self.title}` (line {self.row}) was not applied: "
            f"the fixed text does not parse ({self.reason})"
        )


@dataclass
class FixOutcome:
    """The text after the loop, its remaining findings (before suppression), and counts."""

    source: SourceText
    findings: list[Finding]
    notice: str | None
    # Fixes applied over all rounds (one per finding fixed, whatever its number of edits).
    applied: int
    # Fixes whose result did not parse: never applied, and an internal error to report.
    rejected: list[RejectedFix] = field(default_factory=list)


def _fix_key(finding: Finding) -> tuple[str, str, tuple[str, ...]]:
    """What identifies a fix across rounds, whose positions move as other fixes land."""
    fix = finding.fix
    assert fix is not None
    return finding.code, fix.message, tuple(edit.content for edit in fix.edits)


def _encoding_failure(source: SourceText, text: str) -> str | None:
    try:
        source.encode(text)
    except UnicodeEncodeError as error:
        return f"{text[error.start : error.end]!r} cannot be written as {source.encoding}"
    return None


def _apply_checked(
    source: SourceText, fixed: list[Finding], level: int
) -> tuple[str, list[Finding], list[tuple[Finding, RejectedFix]]]:
    """Apply `fixed` to `source` keeping only fixes whose result passes the check `level`.

    The usual case costs one check. Otherwise each fix is tried alone, the failing ones are
    rejected, and if the rest still fail together only the first of them is applied.
    """

    def failure(findings: list[Finding]) -> str | None:
        edits = [edit for finding in findings if finding.fix for edit in finding.fix.edits]
        text = apply_edits(source, edits)
        return _encoding_failure(source, text) or parse_failure(text, level)

    if failure(fixed) is None:
        kept = fixed
    else:
        kept, rejected = [], []
        for finding in fixed:
            why = failure([finding])
            if why is None:
                kept.append(finding)
            else:
                assert finding.fix is not None
                title = finding.fix.message
                row = finding.span.start.row
                rejected.append((finding, RejectedFix(finding.code, title, row, why)))
        if len(kept) > 1 and failure(kept) is not None:
            kept = kept[:1]
        edits = [edit for finding in kept if finding.fix for edit in finding.fix.edits]
        return apply_edits(source, edits), kept, rejected
    edits = [edit for finding in kept if finding.fix for edit in finding.fix.edits]
    return apply_edits(source, edits), kept, []


def _fix_counts(findings: Sequence[Finding]) -> Counter[tuple[str, str, tuple[str, ...]]]:
    return Counter(_fix_key(finding) for finding in findings if finding.fix is not None)


def fix_until_stable(
    source: SourceText,
    findings: list[Finding],
    notice: str | None,
    relint: Relint,
    *,
    unsafe: bool,
) -> FixOutcome:
    """Fix, relint and repeat until no fix applies; `findings` are those of `source`.

    Every round's text is parsed before it is kept: a fix whose result does not parse
    (as strictly as the original text parses) is left out and listed in `rejected`, and its
    finding is reported without a fix. A fix after which its finding is still there (a
    rule that does not see its own fix) is taken back, so that it is not applied again
    each round and each run; the notice says so.
    """
    current = source
    applied = 0
    rejected: list[RejectedFix] = []
    ineffective: list[str] = []
    refused: set[tuple[str, str, tuple[str, ...]]] = set()
    level: int | None = None
    for _ in range(MAX_FIX_ROUNDS):
        candidates = [
            finding
            for finding in unsuppressed(findings, current)
            if finding.fix is None or _fix_key(finding) not in refused
        ]
        fixed = applicable_fixes(candidates, unsafe)
        if not fixed:
            break
        if level is None:
            level = parse_level(source.text)
        text, kept, dropped = _apply_checked(current, fixed, level)
        rejected.extend(why for _, why in dropped)
        refused.update(_fix_key(finding) for finding, _ in dropped)
        if not kept:
            continue
        fixed_text = SourceText(text, current.encoding, current.bom)
        new_findings, new_notice = relint(fixed_text)
        before, done = _fix_counts(candidates), _fix_counts(kept)
        after = _fix_counts(unsuppressed(new_findings, fixed_text))
        stuck = {key for key in done if after[key] > before[key] - done[key]}
        if stuck:
            # Take the round back and redo it without the fixes that did not fix.
            refused |= stuck
            ineffective.extend(
                f"{finding.code}'s fix `{finding.fix.message}` (line "
                f"{finding.span.start.row}) was not applied: its finding remains after it"
                for finding in kept
                if finding.fix is not None and _fix_key(finding) in stuck
            )
            continue
        current, findings, notice = fixed_text, new_findings, new_notice
        applied += len(kept)
    if refused:
        findings = [
            replace(finding, fix=None)
            if finding.fix is not None and _fix_key(finding) in refused
            else finding
            for finding in findings
        ]
    if ineffective:
        notice = "; ".join([*([notice] if notice else []), *ineffective])
    return FixOutcome(current, findings, notice, applied, rejected)


class ConcurrentModification(Exception):
    """The file changed on disk between bnlint reading it and writing the fix."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Temporary files of a fix are named `.NAME.PID.XXXXXXXX.bnlint`: the file they will
# become, and the process writing them, so a later run knows a killed run's leftovers.
TEMPORARY_SUFFIX = ".bnlint"
# The folder inside the cache where fixes are written before they replace the user's files.
FIX_TEMPORARY_FOLDER = "fixes-tmp"
_TEMPORARY = re.compile(r"\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]{8}\.bnlint\Z")
# Older than this, a temporary file is a leftover whatever its process id says (ids are
# reused, and a fix's write takes milliseconds).
STALE_TEMPORARY_SECONDS = 3600.0


def temporary_folder(cache_folder: Path) -> Path | None:
    """Where fixes are written first when `cache_folder` is a bnlint cache; else None."""
    if (cache_folder / "CACHEDIR.TAG").is_file():
        return cache_folder / FIX_TEMPORARY_FOLDER
    return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process, or no process id at all: leave it
    return True


def remove_leftovers(folder: Path, *, beside_files: bool) -> int:
    """Remove the temporary files a killed `--fix` left in `folder`; how many.

    A file counts as a leftover when the run that wrote it is gone (its process id is not
    running) or when it is older than an hour. In a folder of the user's (`beside_files`)
    only a leftover of a file that is there is touched: `.model.py.123.abcdefgh.bnlint`
    beside `model.py`.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    names = {entry.name for entry in entries} if beside_files else set()
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None or (beside_files and match["name"] not in names):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            pid = match["pid"]
            stale = now - info.st_mtime > STALE_TEMPORARY_SECONDS
            if stale or (pid is not None and not _alive(int(pid))):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def write_atomic(
    path: Path,
    data: bytes,
    expected_digest: str | None = None,
    temporary_folder: Path | None = None,
) -> None:
    """Replace `path` with `data` so that readers see the old file or the new, never half.

    The new content goes to a temporary file on the same file system, takes the old file's
    owner, group and permissions, and is renamed over it. The temporary file is written in
    `temporary_folder` when it is on the same device as `path` (a kill then leaves nothing
    in the user's folders), else beside `path`. A file with several hard links, or whose
    owner the temporary file cannot take (bnlint is not root), is rewritten in place once
    the temporary copy is complete: renaming would detach it from its other links or give
    it a new owner. When `expected_digest` is given and the file on disk no longer matches
    it, nothing is written.
    """
    # Through a symlink to the file it names: replacing the link itself would leave the
    # real file unfixed and the link turned into a copy.
    path = Path(os.path.realpath(path))
    try:
        info: os.stat_result | None = path.stat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        if expected_digest is not None:
            raise ConcurrentModification(str(path))  # no longer the file that was linted
        # A device or a pipe (`--output /dev/stdout`): there is no file to replace.
        with open(path, "wb") as handle:
            handle.write(data)
        return
    before = path.read_bytes() if info is not None else None
    if expected_digest is not None and (before is None or digest(before) != expected_digest):
        raise ConcurrentModification(str(path))
    folders = [path.parent]
    if temporary_folder is not None and _same_device(temporary_folder, path.parent):
        folders.insert(0, temporary_folder)
    for index, folder in enumerate(folders):
        last = index == len(folders) - 1
        try:
            _write_through(folder, path, data, info, before)
            return
        except OSError as error:
            # A bind mount shares the device number and still refuses a rename across it.
            if last or error.errno != errno.EXDEV:
                raise


def _same_device(folder: Path, other: Path) -> bool:
    try:
        folder.mkdir(exist_ok=True)
        return folder.stat().st_dev == other.stat().st_dev
    except OSError:
        return False


def _write_through(
    folder: Path, path: Path, data: bytes, info: os.stat_result | None, before: bytes | None
) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is None:
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, path)
            return
        owned = _take_owner(temporary, info)
        # After chown, which clears the set-user-id and set-group-id bits.
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if info.st_nlink > 1 or not owned:
            assert before is not None
            _rewrite_in_place(path, data, before)
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _take_owner(temporary: str, info: os.stat_result) -> bool:
    """Give the temporary file the owner and group of the file it replaces; whether it has."""
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) == (info.st_uid, info.st_gid):
        return True
    if not hasattr(os, "chown"):
        return True  # no owners to keep (Windows)
    try:
        os.chown(temporary, info.st_uid, info.st_gid)
    except PermissionError:
        return False
    return True


def _rewrite_in_place(path: Path, data: bytes, before: bytes) -> None:
    """Overwrite the file's own bytes (keeping its inode, links and owner); on failure, put
    the old bytes back."""
    with open(path, "r+b") as handle:
        try:
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            handle.seek(0)
            handle.write(before)
            handle.truncate()
            handle.flush()
            raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def unified_diff(filename: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{filename}",
            tofile=f"b/{filename}",
        )
    )
