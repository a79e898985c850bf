"""`path:line:col: CODE message` per finding (clickable in terminals and editors)."""

from __future__ import annotations

from bnlint.diagnostics import Applicability, Finding
from bnlint.report import RunReport, location_label


def marker(finding: Finding) -> str:
    # `[*]` promises that plain `--fix` fixes it, as the summary line counts it.
    safe = finding.fix is not None and finding.fix.applicability is Applicability.SAFE
    return "[*] " if safe else ""


def render(report: RunReport) -> str:
    lines = [f"{location_label(f)}: {f.code} {marker(f)}{f.full_message}" for f in report.findings]
    return "".join(line + "\n" for line in lines)
