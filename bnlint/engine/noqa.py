"""BN002: `# noqa` comments that name bnlint rules which report nothing there.

Computed after the rules ran, from every finding before suppression: a suppression is used
when a finding of its code starts on its line (or, file-level, anywhere in the file).
"""

from __future__ import annotations

from collections.abc import Sequence

from bnlint.catalog import RULES
from bnlint.config import FileSettings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Position, Span
from bnlint.source import SourceText
from bnlint.suppression import Directive, directives

UNUSED_NOQA = "BN002"


def unused_noqa(
    source: SourceText, findings: Sequence[Finding], settings: FileSettings, filename: str
) -> list[Finding]:
    """One BN002 finding per `noqa` comment with codes that suppress nothing."""
    if UNUSED_NOQA not in settings.enabled:
        return []
    on_row: dict[int, set[str]] = {}
    for finding in findings:
        on_row.setdefault(finding.span.start.row, set()).add(finding.code)
    in_file = {finding.code for finding in findings}
    result = []
    for directive in directives(source.text):
        used = in_file if directive.file_level else on_row.get(directive.row, set())
        stale = [
            (code, reason)
            for code, _, _ in directive.codes
            if (reason := _unused(code, used, settings, directive.file_level)) is not None
        ]
        if stale:
            result.append(_finding(source, directive, stale, filename))
    return result


def _unused(code: str, used: set[str], settings: FileSettings, file_level: bool) -> str | None:
    """Why `code` suppresses nothing here, or None when it does (or cannot be judged)."""
    if not code.startswith("BN"):
        return None  # another tool's code (`E501`, `F401`): theirs to judge
    info = RULES.get(code)
    if info is None:
        return "is not a bnlint rule"
    if info.runtime_only or code == UNUSED_NOQA:
        return None  # reported by the probe, or this rule's own suppression
    if code not in settings.enabled:
        return "is not enabled"
    if code not in used:
        return "reports nothing in this file" if file_level else "reports nothing on this line"
    return None


def _finding(
    source: SourceText, directive: Directive, stale: list[tuple[str, str]], filename: str
) -> Finding:
    from bnlint.registry import all_rules

    rule = all_rules()[UNUSED_NOQA]
    detail = "; ".join(f"`{code}` {reason}" for code, reason in stale)
    row = directive.row
    span = Span(Position(row, directive.start), Position(row, directive.end))
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=rule.message.format(detail=detail),
        hint=rule.hint,
        filename=filename,
        span=span,
        fix=_removal(source, directive, {code for code, _ in stale}),
    )


def _removal(source: SourceText, directive: Directive, stale: set[str]) -> Fix:
    """Remove the stale codes, or the whole comment when no code is left."""
    row = directive.row
    line = source.line(row)
    kept = [code for code, _, _ in directive.codes if code not in stale]
    if kept:
        first, last = directive.codes[0][1], directive.codes[-1][2]
        edit = Edit(", ".join(kept), Span(Position(row, first), Position(row, last)))
        return Fix(Applicability.SAFE, "Remove the unused codes", (edit,))
    if directive.file_level or not line[: directive.start - 1].strip():
        # A comment line of its own: the whole line goes.
        start, end = Position(row, 1), Position(row + 1, 1)
        if row >= source.line_count:
            end = Position(row, len(line) + 1)
        return Fix(
            Applicability.SAFE, "Remove the unused `noqa` comment", (Edit("", Span(start, end)),)
        )
    # Code before the comment: keep it, drop the comment and the spaces before it.
    before = line[: directive.start - 1]
    start = Position(row, len(before.rstrip()) + 1)
    end = Position(row, directive.end)
    return Fix(
        Applicability.SAFE, "Remove the unused `noqa` comment", (Edit("", Span(start, end)),)
    )
