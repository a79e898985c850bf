"""reviewdog's Diagnostic Format (rdjson): one document with every finding, its fix as
suggestions and its explanation as related locations."""

from __future__ import annotations

import json
from typing import Any

from bnlint.diagnostics import Finding, RelatedLocation, Severity, Span
from bnlint.report import RunReport

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}


def _range(span: Span) -> dict[str, Any]:
    return {
        "start": {"line": span.start.row, "column": span.start.column},
        "end": {"line": span.end.row, "column": span.end.column},
    }


def _location(item: Finding | RelatedLocation) -> dict[str, Any]:
    return {"path": item.filename, "range": _range(item.span)}


def _diagnostic(finding: Finding) -> dict[str, Any]:
    where = f" (cell {finding.cell})" if finding.cell is not None else ""
    diagnostic: dict[str, Any] = {
        "message": finding.full_message + where,
        "location": _location(finding),
        "severity": _SEVERITY[finding.severity],
        "code": {"value": finding.code, "url": finding.url},
    }
    if finding.fix is not None:
        diagnostic["suggestions"] = [
            {"range": _range(edit.span), "text": edit.content} for edit in finding.fix.edits
        ]
    if finding.related:
        diagnostic["related_locations"] = [
            {"message": step.message, "location": _location(step)} for step in finding.related
        ]
    return diagnostic


def render(report: RunReport) -> str:
    document = {
        "source": {"name": "bnlint", "url": "https://github.com/bnlint/bnlint"},
        "diagnostics": [_diagnostic(f) for f in report.findings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
