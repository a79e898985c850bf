"""`--baseline FILE`: record today's findings once, then report only new ones.

A large existing repository adopts bnlint by recording what it finds today and keeping
that record in version control; later runs hide the recorded findings and report the
rest. A record must survive unrelated edits, so it never holds a line number. Each
finding is keyed by:

- its rule code,
- its file, relative to the baseline file's folder (so the key does not depend on the
  working directory or on how the path was spelled on the command line),
- the qualified name of the function or class around its anchor (`Trainer.validate`;
  empty at module level),
- a fingerprint of the anchored line's text with whitespace normalized,
- an occurrence number among findings that share all of the above, in file order.

Adding lines above a recorded finding, re-indenting it or moving the function changes
none of these. Editing the anchored line itself, or renaming the function around it,
makes the finding new: the code it points at is no longer the code that was accepted.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from bnlint.diagnostics import Finding
from bnlint.fixes import write_atomic
from bnlint.source import SourceText

FORMAT_VERSION = 1
_FIELDS = ("code", "path", "scope", "fingerprint", "occurrence")


class BaselineError(Exception):
    """A baseline file that cannot be read or is not a bnlint baseline."""


@dataclass(frozen=True, order=True)
class BaselineKey:
    """What identifies a finding across edits; the field order is the file's sort order."""

    path: str
    code: str
    scope: str
    fingerprint: str
    occurrence: int

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}


def normalized_line(line: str) -> str:
    """The anchored line as the fingerprint sees it: runs of whitespace become one space.

    >>> normalized_line("        model.eval   # check")
    'model.eval # check'
    """
    return " ".join(line.split())


def fingerprint(line: str) -> str:
    return hashlib.sha256(normalized_line(line).encode("utf-8")).hexdigest()[:16]


class ScopeIndex:
    """The qualified name of the innermost function or class around each row of a text.

    >>> ScopeIndex("class A:\\n    def f(self):\\n        pass\\n").scope_at(3)
    'A.f'
    """

    def __init__(self, text: str) -> None:
        self._spans: list[tuple[int, int, str]] = []
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # a file that does not parse has only module-level findings (BN001)
        self._collect(tree.body, "")

    def _collect(self, body: Iterable[ast.AST], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{node.name}"
                # Decorators belong to the definition: a finding on one is inside it.
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                self._spans.append((first, node.end_lineno or node.lineno, name))
                self._collect(node.body, f"{name}.")
            else:
                # Definitions nested in `if`, `with`, `try` keep their enclosing scope's name.
                self._collect(ast.iter_child_nodes(node), prefix)

    def scope_at(self, row: int) -> str:
        best = ""
        best_size = -1
        for first, last, name in self._spans:
            if first <= row <= last and (best_size < 0 or last - first < best_size):
                best, best_size = name, last - first
        return best


def finding_keys(
    findings: Sequence[Finding],
    source_of: Callable[[Finding], SourceText | None],
    root: Path,
    cwd: Path | None = None,
) -> list[BaselineKey]:
    """One key per finding, in the findings' order.

    `source_of` gives the text a finding's rows count in (the file, or its notebook cell);
    `root` is the baseline file's folder; relative filenames count from `cwd`.
    """
    cwd = cwd or Path.cwd()
    scopes: dict[int, ScopeIndex] = {}
    partial: list[tuple[str, str, str, str]] = []
    for finding in findings:
        source = source_of(finding)
        line = source.line(finding.span.start.row) if source is not None else ""
        scope = ""
        if source is not None:
            index = scopes.get(id(source))
            if index is None:
                index = scopes[id(source)] = ScopeIndex(source.text)
            scope = index.scope_at(finding.span.start.row)
        path = relative_key_path(finding.filename, root, cwd)
        partial.append((path, finding.code, scope, fingerprint(line)))
    # Occurrence numbers count in file order, whatever order the findings came in.
    order = sorted(range(len(findings)), key=lambda i: (partial[i], findings[i].sort_key()))
    seen: Counter[tuple[str, str, str, str]] = Counter()
    keys: list[BaselineKey | None] = [None] * len(findings)
    for i in order:
        keys[i] = BaselineKey(*partial[i], seen[partial[i]])
        seen[partial[i]] += 1
    return [key for key in keys if key is not None]


def relative_key_path(filename: str, root: Path, cwd: Path) -> str:
    """`filename` relative to `root`, with `/` separators (standard input stays `-`)."""
    if filename == "-":
        return filename
    absolute = os.path.normpath(os.path.join(cwd, filename))
    try:
        relative = os.path.relpath(absolute, os.path.normpath(root.absolute()))
    except ValueError:  # another drive on Windows: only the absolute path names it
        return PurePath(absolute).as_posix()
    return PurePath(relative).as_posix()


def read_baseline(path: Path) -> set[BaselineKey]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot read the baseline {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"the baseline {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("bnlint-baseline") != FORMAT_VERSION:
        raise BaselineError(
            f"{path} is not a bnlint baseline (version {FORMAT_VERSION}); "
            "write a new one with `--baseline FILE --write-baseline`"
        )
    keys: set[BaselineKey] = set()
    for entry in data.get("findings", []):
        try:
            key = BaselineKey(
                path=str(entry["path"]),
                code=str(entry["code"]),
                scope=str(entry["scope"]),
                fingerprint=str(entry["fingerprint"]),
                occurrence=int(entry["occurrence"]),
            )
        except (KeyError, TypeError, ValueError):
            raise BaselineError(f"the baseline {path} has a malformed entry: {entry!r}") from None
        keys.add(key)
    return keys


def render_baseline(keys: Iterable[BaselineKey]) -> str:
    """The file's text: sorted, indented and stable, so that it diffs well under review."""
    document = {
        "bnlint-baseline": FORMAT_VERSION,
        "findings": [key.to_json() for key in sorted(set(keys))],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_baseline(path: Path, keys: Iterable[BaselineKey]) -> None:
    """Write the baseline so that a reader sees the old file or the new, never half.

    A baseline already there keeps its owner, group, mode and hard links.
    """
    write_atomic(path, render_baseline(keys).encode("utf-8"))


@dataclass
class BaselineOutcome:
    """The findings to report and what the baseline hid."""

    findings: list[Finding]
    hidden: int
    # Recorded findings of the linted files that no longer occur (fixed, or their line edited).
    stale: int


def apply_baseline(
    findings: Sequence[Finding],
    keys: Sequence[BaselineKey],
    recorded: set[BaselineKey],
    linted: set[str] | None = None,
) -> BaselineOutcome:
    """Keep the findings whose key the baseline does not record.

    `linted`: the key paths of the files this run linted; a recorded finding of a file the
    run did not lint (pre-commit passes only the changed files) is not stale.
    """
    kept = [f for f, key in zip(findings, keys, strict=True) if key not in recorded]
    present = set(keys)
    return BaselineOutcome(
        findings=kept,
        hidden=len(findings) - len(kept),
        stale=sum(
            1 for key in recorded if key not in present and (linted is None or key.path in linted)
        ),
    )


@dataclass
class BaselineRun:
    """What `--baseline` leaves to report, and a line for the user about what it did."""

    findings: list[Finding]
    note: str


def use_baseline(
    path: Path,
    findings: Sequence[Finding],
    source_of: Callable[[Finding], SourceText | None],
    *,
    write: bool = False,
    linted: Iterable[str] | None = None,
) -> BaselineRun:
    """Record the findings in `path` (when asked, or when it does not exist yet), or hide
    the ones it records. Raises BaselineError for a file that cannot be read or written.

    `linted`: the filenames (as findings name them) of every file this run linted. When
    given, recording again keeps what the baseline holds for files the run did not lint,
    and only their recorded findings can be stale.
    """
    root = path.absolute().parent
    cwd = Path.cwd()
    keys = finding_keys(findings, source_of, root, cwd)
    linted_paths = (
        {relative_key_path(name, root, cwd) for name in linted} if linted is not None else None
    )
    if write or not path.exists():
        kept: set[BaselineKey] = set()
        if path.exists() and linted_paths is not None:
            # A baseline that cannot be read is replaced whole: that is what re-recording is for.
            with contextlib.suppress(BaselineError):
                kept = {key for key in read_baseline(path) if key.path not in linted_paths}
        try:
            write_baseline(path, [*keys, *kept])
        except OSError as error:
            raise BaselineError(
                f"cannot write the baseline {path}: {error.strerror or error}"
            ) from None
        count = len(keys)
        note = (
            f"recorded {count} finding{'s' if count != 1 else ''} in the baseline {path}; "
            "later runs with `--baseline` report only new ones"
        )
        if kept:
            note += f" (and kept {len(kept)} recorded for files this run did not lint)"
        return BaselineRun([], note)
    outcome = apply_baseline(findings, keys, read_baseline(path), linted_paths)
    note = f"{outcome.hidden} finding{'s' if outcome.hidden != 1 else ''} hidden by the baseline {path}"
    if outcome.stale:
        note += (
            f"; {outcome.stale} recorded finding{'s' if outcome.stale != 1 else ''} no longer "
            f"occur{'s' if outcome.stale == 1 else ''} (fixed): `--write-baseline` drops "
            f"{'it' if outcome.stale == 1 else 'them'}"
        )
    return BaselineRun(outcome.findings, note)
