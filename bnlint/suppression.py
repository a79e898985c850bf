"""`# noqa` and `# bnlint: noqa`, applied centrally after the rules ran."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bnlint.diagnostics import Finding
from bnlint.source import SourceText

_LINE_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(r"^\s*#\s*bnlint\s*:\s*noqa\s*$", re.IGNORECASE | re.MULTILINE)
# `# bnlint: noqa: BN401, BN402` on a line of its own: those rules are off for the file.
_FILE_NOQA_CODES = re.compile(
    r"^[ \t]*#\s*bnlint\s*:\s*noqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def file_is_suppressed(text: str) -> bool:
    """A standalone `# bnlint: noqa` comment line turns the whole file off."""
    return "noqa" in text and _FILE_NOQA.search(text) is not None


def file_suppressed_codes(text: str) -> frozenset[str]:
    """The codes a `# bnlint: noqa: CODE, ...` comment line turns off for the whole file.

    >>> file_suppressed_codes("# bnlint: noqa: BN401\\nimport torch\\n") -> {"BN401"}
    """
    return frozenset(
        code.upper()
        for match in _FILE_NOQA_CODES.finditer(text)
        for code in _CODE.findall(match.group("codes"))
    )


def line_suppresses(line: str, code: str) -> bool:
    """Whether a `# noqa` comment on `line` covers `code` (bare `# noqa` covers all).

    >>> line_suppresses("model.eval  # noqa: BN105,BN401", "BN105") -> True
    """
    if "noqa" not in line.lower():
        return False
    for match in _LINE_NOQA.finditer(line):
        codes = match.group("codes")
        if codes is None:
            return True
        if code.upper() in {c.upper() for c in _CODE.findall(codes)}:
            return True
    return False


def unsuppressed(findings: Iterable[Finding], source: SourceText) -> list[Finding]:
    """Drop the findings a `# noqa` on their first line, or a file-level
    `# bnlint: noqa: CODE`, covers."""
    off = file_suppressed_codes(source.text)
    return [
        finding
        for finding in findings
        if finding.code not in off
        and not line_suppresses(source.line(finding.span.start.row), finding.code)
    ]


@dataclass(frozen=True)
class Directive:
    """One `# noqa: CODE, ...` (or file-level `# bnlint: noqa: CODE, ...`) comment."""

    row: int
    # Character columns (1-based, end exclusive) of the whole comment and of each code.
    start: int
    end: int
    codes: tuple[tuple[str, int, int], ...]
    file_level: bool


def directives(text: str) -> list[Directive]:
    """Every `noqa` comment that lists codes (a bare `# noqa` names none to check)."""
    found = []
    for row, line in enumerate(text.splitlines(), start=1):
        if "noqa" not in line.lower():
            continue
        whole = _FILE_NOQA_CODES.match(line)
        matches = [whole] if whole else list(_LINE_NOQA.finditer(line))
        for match in matches:
            if match is None or match.group("codes") is None:
                continue
            offset = match.start("codes")
            codes = tuple(
                (code.group().upper(), offset + code.start() + 1, offset + code.end() + 1)
                for code in _CODE.finditer(match.group("codes"))
            )
            start = match.start() if whole is None else line.index("#")
            found.append(Directive(row, start + 1, match.end() + 1, codes, whole is not None))
    return found


def add_noqa(source: SourceText, findings: Sequence[Finding]) -> tuple[str, int]:
    """The text with a `# noqa: CODE` on the first line of every finding; lines changed.

    Codes join a `# noqa: ...` already on the line. A line that cannot end with a comment
    (inside a multi-line string, or continued by a backslash) is left alone.

    `model.eval` (BN105 on row 1) becomes `model.eval  # noqa: BN105`.
    """
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        wanted.setdefault(finding.span.start.row, set()).add(finding.code)
    closed = _rows_without_comments(source.text)
    if closed is None:
        return source.text, 0
    lines = source.text.splitlines(keepends=True)
    changed = 0
    for row, codes in sorted(wanted.items()):
        if row in closed or not 1 <= row <= len(lines):
            continue
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        missing = sorted(code for code in codes if not line_suppresses(body, code))
        if not missing:
            continue
        listed = next((m for m in _LINE_NOQA.finditer(body) if m.group("codes") is not None), None)
        if listed is not None:
            end = listed.end("codes")
            body = f"{body[:end]}, {', '.join(missing)}{body[end:]}"
        else:
            body = f"{body}  # noqa: {', '.join(missing)}"
        lines[row - 1] = body + line[len(line.rstrip("\r\n")) :]
        changed += 1
    return "".join(lines), changed


def _rows_without_comments(text: str) -> set[int] | None:
    """Rows whose end is inside a string or continued by a backslash; None: not Python."""
    closed: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] < token.end[0] and token.type != tokenize.NL:
                closed.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for row, line in enumerate(text.splitlines(), start=1):
        if line.endswith("\\"):
            closed.add(row)
    return closed
