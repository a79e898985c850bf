"""`path:line:col: CODE message` per finding (clickable in terminals and editors)."""

from __future__ import annotations

from bnlint.report import RunReport, location_label


def render(report: RunReport) -> str:
    lines = [
        f"{location_label(f)}: {f.code} {'[*] ' if f.fix else ''}{f.full_message}"
        for f in report.findings
    ]
    return "".join(line + "\n" for line in lines)
