"""ruff's `grouped` format: a heading per file, then one aligned line per finding."""

from __future__ import annotations

from itertools import groupby

from bnlint.diagnostics import Finding
from bnlint.report import RunReport, marker, summary_line


def _places(findings: list[Finding]) -> list[str]:
    """`row:col` aligned as ruff aligns them: rows to the right, columns to the left."""
    cells = [f"cell {f.cell}:" if f.cell is not None else "" for f in findings]
    cell_width = max(len(cell) for cell in cells)
    row_width = max(len(str(f.span.start.row)) for f in findings)
    column_width = max(len(str(f.span.start.column)) for f in findings)
    return [
        f"{cell:<{cell_width}}{f.span.start.row:>{row_width}}:{f.span.start.column:<{column_width}}"
        for cell, f in zip(cells, findings, strict=True)
    ]


def render(report: RunReport) -> str:
    lines: list[str] = []
    for filename, group in groupby(report.findings, key=lambda f: f.filename):
        findings = list(group)
        lines.append(f"{filename}:")
        lines.extend(
            f"  {place} {f.code} {marker(f, report.unsafe_fixes)}{f.full_message}"
            for place, f in zip(_places(findings), findings, strict=True)
        )
        lines.append("")
    if not report.quiet:
        lines.append(summary_line(report))
    return "".join(line + "\n" for line in lines)
