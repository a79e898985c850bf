"""Rule reports -> findings: the one place where a report's tree nodes become positions.

A rule reports on libcst nodes (`registry.Report`); everything after the walk (suppression,
fixes, the cache, reporters) speaks `diagnostics.Finding`, in 1-based rows and columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import libcst as cst
from libcst.metadata import CodeRange

from bnlint.diagnostics import Edit, Finding, Fix, RelatedLocation, Span, position_from_cst
from bnlint.registry import InsertBefore, Report
from bnlint.source import SourceText

# What MetadataWrapper.resolve(PositionProvider) returns.
Positions = Mapping[cst.CSTNode, CodeRange]


def _span(positions: Positions, node: cst.CSTNode) -> Span:
    code_range = positions[node]
    return Span(
        position_from_cst(code_range.start.line, code_range.start.column),
        position_from_cst(code_range.end.line, code_range.end.column),
    )


def _fix(
    report: Report, positions: Positions, module: cst.Module, source: SourceText
) -> Fix | None:
    if report.fix is None:
        return None
    edits = []
    for change in report.fix.changes:
        span = _span(positions, change.node)
        if isinstance(change, InsertBefore):
            start = span.start
            indent = source.line(start.row)[: start.column - 1]
            content = f"{change.code}{module.default_newline}{indent}"
            edits.append(Edit(content, Span(start, start)))
        else:
            edits.append(Edit(change.code, span))
    return Fix(report.fix.applicability, report.fix.message, tuple(edits))


def to_finding(
    report: Report, filename: str, positions: object, module: cst.Module, source: SourceText
) -> Finding:
    """The finding for one report of a rule's walk over `module` (the tree of `source`)."""
    resolved = cast(Positions, positions)
    return Finding(
        code=report.rule.code,
        name=report.rule.name,
        severity=report.severity,
        message=report.message,
        hint=report.hint,
        filename=filename,
        span=_span(resolved, report.node),
        fix=_fix(report, resolved, module, source),
        # A step whose node is not of this tree (an analysis of another file lent it) has
        # no position here: it is left out rather than failing the whole file.
        related=tuple(
            RelatedLocation(filename, _span(resolved, node), message)
            for node, message in report.related
            if node in resolved
        ),
    )
