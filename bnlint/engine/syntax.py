"""BN001: the finding for a file bnlint cannot decode, read or parse."""

from __future__ import annotations

from bnlint.diagnostics import Finding, Position, Span

SYNTAX_ERROR = "BN001"


def syntax_finding(
    filename: str, message: str, position: Position, hint: str | None = None
) -> Finding:
    from bnlint.registry import all_rules  # only on the error path: it imports libcst

    rule = all_rules()[SYNTAX_ERROR]
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=rule.message.format(detail=message),
        hint=hint or rule.hint,
        filename=filename,
        span=Span(position, position),
    )
