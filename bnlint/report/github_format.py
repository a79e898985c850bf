"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.report import RunReport

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: RunReport) -> str:
    lines = []
    for f in report.findings:
        start, end = f.span.start, f.span.end
        where = f" (cell {f.cell})" if f.cell is not None else ""
        properties = (
            f"file={_property(f.filename)},line={start.row},col={start.column},"
            f"endLine={end.row},endColumn={end.column},"
            f"title={_property(f'{f.code} ({f.name})')}"
        )
        lines.append(
            f"::{_LEVEL[f.severity]} {properties}::{_data(f.code + ' ' + f.full_message + where)}"
        )
    return "".join(line + "\n" for line in lines)
