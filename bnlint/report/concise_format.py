"""`path:line:col: CODE message` per finding (clickable in terminals and editors), then the
summary line as `text` prints it (none with `--quiet`)."""

from __future__ import annotations

from bnlint.report import RunReport, location_label, marker, summary_line

# The runtime probe observed it (`bnlint run`, `bnlint check --probe-report`).
_CONFIRMED = " (confirmed at run time)"


def render(report: RunReport) -> str:
    lines = [
        f"{location_label(f)}: {f.code} {marker(f, report.unsafe_fixes)}{f.full_message}{_CONFIRMED if f.confirmed else ''}"
        for f in report.findings
    ]
    if not report.quiet:
        lines.append(summary_line(report))
    return "".join(line + "\n" for line in lines)
