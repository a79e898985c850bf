"""`# noqa` and `# bnlint: noqa`, applied centrally after the rules ran."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bnlint.diagnostics import Finding
from bnlint.source import SourceText

_LINE_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(r"^\s*#\s*bnlint\s*:\s*noqa\s*$", re.IGNORECASE | re.MULTILINE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def file_is_suppressed(text: str) -> bool:
    """A standalone `# bnlint: noqa` comment line turns the whole file off."""
    return "noqa" in text and _FILE_NOQA.search(text) is not None


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
    """Drop the findings a `# noqa` on their first line covers."""
    return [
        finding
        for finding in findings
        if not line_suppresses(source.line(finding.span.start.row), finding.code)
    ]
