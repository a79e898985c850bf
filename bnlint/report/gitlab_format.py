"""GitLab Code Quality report (a JSON array of issues)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from bnlint.diagnostics import Finding, Severity
from bnlint.report import RunReport, relative_path, source_for

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def _fingerprint(finding: Finding, path: str, line_text: str, occurrence: int) -> str:
    """Stable across unrelated edits: built from the code, the path, the anchored line's
    text and its occurrence number, never from the line number."""
    key = f"{finding.code}\0{path}\0{finding.cell}\0{line_text.strip()}\0{occurrence}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def render(report: RunReport) -> str:
    issues = []
    seen: Counter[tuple[str, str, int | None, str]] = Counter()
    for f in report.findings:
        source = source_for(report, f)
        line_text = source.line(f.span.start.row) if source else ""
        # GitLab links a path from the repository's root: never `./src/...` or absolute.
        path = relative_path(f.filename, report.root, report.cwd)
        key = (f.code, path, f.cell, line_text.strip())
        occurrence = seen[key]
        seen[key] += 1
        issues.append(
            {
                "description": f"{f.code} {f.full_message}"
                + (f" (cell {f.cell})" if f.cell is not None else ""),
                "check_name": f.code,
                "fingerprint": _fingerprint(f, path, line_text, occurrence),
                "severity": _SEVERITY[f.severity],
                "location": {
                    "path": path,
                    "lines": {"begin": f.span.start.row, "end": f.span.end.row},
                },
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
