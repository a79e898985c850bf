"""Azure Pipelines logging commands: one `##vso[task.logissue ...]` per finding."""

from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.report import RunReport

# Azure knows only errors and warnings.
_TYPE = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "warning"}


def _message(text: str) -> str:
    # The agent's own escaping (azure-pipelines-task-lib's escapeData).
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _message(text).replace(";", "%3B").replace("]", "%5D")


def render(report: RunReport) -> str:
    lines = []
    for f in report.findings:
        start = f.span.start
        where = f" (cell {f.cell})" if f.cell is not None else ""
        lines.append(
            f"##vso[task.logissue type={_TYPE[f.severity]};sourcepath={_property(f.filename)};"
            f"linenumber={start.row};columnnumber={start.column};code={f.code};]"
            f"{_message(f.code + ' ' + f.full_message + where)}"
        )
    return "".join(line + "\n" for line in lines)
