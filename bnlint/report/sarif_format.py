"""SARIF 2.1.0: one run, the rules that fired, one result per finding."""

from __future__ import annotations

import json
from typing import Any

from bnlint.diagnostics import RULES_URL, Finding, Severity
from bnlint.report import RunReport

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _region(finding: Finding) -> dict[str, int]:
    start, end = finding.span.start, finding.span.end
    return {
        "startLine": start.row,
        "startColumn": start.column,
        "endLine": end.row,
        "endColumn": end.column,
    }


def _result(finding: Finding, index: int) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": finding.filename},
            "region": _region(finding),
        }
    }
    if finding.cell is not None:
        location["logicalLocations"] = [{"name": f"cell {finding.cell}", "kind": "module"}]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.full_message},
        "locations": [location],
    }
    if finding.cell is not None:
        result["properties"] = {"cell": finding.cell}
    if finding.confirmed:
        result.setdefault("properties", {})["confirmed"] = True
    if finding.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": finding.fix.message},
                "artifactChanges": [
                    {
                        "artifactLocation": {"uri": finding.filename},
                        "replacements": [
                            {
                                "deletedRegion": {
                                    "startLine": e.span.start.row,
                                    "startColumn": e.span.start.column,
                                    "endLine": e.span.end.row,
                                    "endColumn": e.span.end.column,
                                },
                                "insertedContent": {"text": e.content},
                            }
                            for e in finding.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def render(report: RunReport) -> str:
    fired = sorted({f.code for f in report.findings})
    index = {code: i for i, code in enumerate(fired)}
    rules = []
    for code in fired:
        name, summary, severity = report.rules.get(code, (code, "", Severity.WARNING))
        rules.append(
            {
                "id": code,
                "name": name,
                "shortDescription": {"text": summary or name},
                "helpUri": RULES_URL.format(code=code),
                "defaultConfiguration": {"level": _LEVEL[severity]},
            }
        )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "bnlint",
                        "version": report.version,
                        "informationUri": "https://github.com/bnlint/bnlint",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.code]) for f in report.findings],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
