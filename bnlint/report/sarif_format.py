"""SARIF 2.1.0: one run, the rules that fired, one result per finding.

Paths are URIs relative to `%SRCROOT%` (the project root, given in `originalUriBaseIds`),
which is what GitHub code scanning resolves against the checkout; a finding's explanation
is a code flow that ends at the finding.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from bnlint.diagnostics import RULES_URL, Finding, RelatedLocation, Severity, Span
from bnlint.report import RunReport, relative_path

_SRCROOT = "%SRCROOT%"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(filename: str, report: RunReport) -> dict[str, str]:
    path = relative_path(filename, report.root, report.cwd)
    if PurePath(path).is_absolute() or not report.root:
        # Outside the project root (or no root known): an absolute `file://` URI.
        return {"uri": _file_uri(path) if PurePath(path).is_absolute() else quote(path)}
    return {"uri": quote(path), "uriBaseId": _SRCROOT}


def _file_uri(path: str) -> str:
    # PurePath.as_uri would need a platform's path flavour; this one reads both.
    posix = path.replace("\\", "/")
    # `:` stays: a Windows drive (`file:///C:/work/x.py`).
    return "file://" + ("" if posix.startswith("/") else "/") + quote(posix, safe="/:")


def _region(item: Finding | RelatedLocation) -> dict[str, int]:
    start, end = item.span.start, item.span.end
    return {
        "startLine": start.row,
        "startColumn": start.column,
        "endLine": end.row,
        "endColumn": end.column,
    }


def _location(item: Finding | RelatedLocation, report: RunReport) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": _artifact(item.filename, report),
            "region": _region(item),
        }
    }
    if item.cell is not None:
        location["logicalLocations"] = [{"name": f"cell {item.cell}", "kind": "module"}]
    return location


def _code_flow(finding: Finding, report: RunReport) -> dict[str, Any]:
    """The explanation as one thread flow: each step, then the finding itself."""
    steps = [
        {"location": {**_location(step, report), "message": {"text": step.message}}}
        for step in finding.related
    ]
    steps.append({"location": {**_location(finding, report), "message": {"text": finding.message}}})
    return {
        "message": {"text": f"How {finding.code} is reached"},
        "threadFlows": [{"locations": steps}],
    }


def _replacement_region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.start.row,
        "startColumn": span.start.column,
        "endLine": span.end.row,
        "endColumn": span.end.column,
    }


def _result(finding: Finding, index: int, report: RunReport) -> dict[str, Any]:
    location = _location(finding, report)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.full_message},
        "locations": [location],
    }
    if finding.related:
        result["codeFlows"] = [_code_flow(finding, report)]
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
                        "artifactLocation": _artifact(finding.filename, report),
                        "replacements": [
                            {
                                "deletedRegion": _replacement_region(e.span),
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
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "bnlint",
                "version": report.version,
                "informationUri": "https://github.com/bnlint/bnlint",
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], report) for f in report.findings],
    }
    if report.root:
        run["originalUriBaseIds"] = {_SRCROOT: {"uri": _file_uri(_directory(report.root))}}
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _directory(path: str) -> str:
    # A base URI names a folder only with its trailing slash.
    posix = PurePath(path).as_posix()
    return posix if posix.endswith("/") else posix + "/"
