"""pylint's parseable format, `path:line: [CODE] message`, for tools that read pylint."""

from __future__ import annotations

from bnlint.report import RunReport


def render(report: RunReport) -> str:
    lines = []
    for f in report.findings:
        cell = f"cell {f.cell}:" if f.cell is not None else ""
        lines.append(f"{f.filename}:{cell}{f.span.start.row}: [{f.code}] {f.full_message}")
    return "".join(line + "\n" for line in lines)
