"""A code frame per finding, with a caret under the anchor, then a summary line."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from bnlint.diagnostics import Finding, Severity
from bnlint.report import RunReport, location_label, source_for, summary_line
from bnlint.source import SourceText

_CONTEXT_LINES = 1
_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold blue",
}


def _frame(finding: Finding, source: SourceText | None) -> Text:
    text = Text()
    text.append(location_label(finding), style="bold")
    text.append(": ")
    text.append(finding.code, style=_SEVERITY_STYLE[finding.severity])
    text.append(f" {finding.message}\n")
    start, end = finding.span.start, finding.span.end
    if source is not None and start.row <= source.line_count:
        first = max(1, start.row - _CONTEXT_LINES)
        last = min(source.line_count, start.row + _CONTEXT_LINES)
        width = len(str(last))
        gutter = " " * width
        text.append(f"{gutter} |\n", style="blue")
        for row in range(first, last + 1):
            line = source.line(row).expandtabs(1)
            text.append(f"{row:>{width}} | ", style="blue")
            text.append(f"{line}\n")
            if row == start.row:
                stop = end.column if end.row == start.row else len(line) + 1
                carets = "^" * max(1, stop - start.column)
                text.append(f"{gutter} | ", style="blue")
                text.append(
                    " " * (start.column - 1) + carets, style=_SEVERITY_STYLE[finding.severity]
                )
                text.append(f" {finding.code}\n", style=_SEVERITY_STYLE[finding.severity])
        text.append(f"{gutter} |\n", style="blue")
        if finding.hint:
            text.append(f"{gutter} = ", style="blue")
            text.append("help", style="bold cyan")
            text.append(f": {finding.hint}\n")
    elif finding.hint:
        text.append("  = ", style="blue")
        text.append("help", style="bold cyan")
        text.append(f": {finding.hint}\n")
    return text


def render(report: RunReport) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=report.color,
        no_color=not report.color,
        color_system="standard" if report.color else None,
        highlight=False,
        soft_wrap=True,
        width=10_000,
    )
    for finding in report.findings:
        console.print(_frame(finding, source_for(report, finding)))
    if not report.quiet:
        console.print(summary_line(report), markup=False)
    return buffer.getvalue()
