"""A code frame per finding, with a caret under the anchor, then a summary line.

Colour output is rendered by rich; plain output (the default off a terminal: CI logs,
pre-commit, editors) is joined here, so a run that prints no colour never imports rich.
The plain text is what rich prints without colour: its control codes stripped and a newline
after each block (text with a tab, whose stops rich counts in terminal cells, still goes to
rich).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bnlint.diagnostics import Finding, Severity
from bnlint.report import RunReport, location_label, marker, source_for, summary_line
from bnlint.source import SourceText

if TYPE_CHECKING:
    from rich.console import Console

_CONTEXT_LINES = 1
_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold blue",
}


# The control codes rich drops from text it prints (bell, backspace, vertical tab, form
# feed, carriage return).
_CONTROL_CODES = dict.fromkeys((7, 8, 11, 12, 13))


class Text:
    """Pieces of text with their rich styles, rendered plain or in colour."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str | None]] = []

    def append(self, text: str, style: str | None = None) -> None:
        self.pieces.append((text, style))

    def append_text(self, other: Text) -> None:
        self.pieces.extend(other.pieces)

    def plain(self) -> str:
        return "".join(text.translate(_CONTROL_CODES) for text, _ in self.pieces)


def _frame(finding: Finding, source: SourceText | None, unsafe_fixes: bool = False) -> Text:
    text = Text()
    text.append(location_label(finding), style="bold")
    text.append(": ")
    text.append(finding.code, style=_SEVERITY_STYLE[finding.severity])
    text.append(f" {marker(finding, unsafe_fixes)}{finding.message}")
    if finding.confirmed:  # the runtime probe observed it (`bnlint run`, `--probe-report`)
        text.append(" (confirmed at run time)", style="bold green")
    text.append("\n")
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
    else:
        gutter = " "
    if finding.hint:
        text.append(f"{gutter} = ", style="blue")
        text.append("help", style="bold cyan")
        text.append(f": {finding.hint}\n")
    _notes(text, finding, gutter)
    return text


def _notes(text: Text, finding: Finding, gutter: str) -> None:
    """The explanation, one numbered step a line: where it starts, up to the finding."""
    for number, step in enumerate(finding.related, start=1):
        text.append(f"{gutter} = ", style="blue")
        text.append("note", style="bold green")
        text.append(f": {number}. ")
        text.append(location_label(step), style="bold")
        text.append(f": {step.message}\n")


def frame(finding: Finding, source: SourceText | None) -> Text:
    """A finding's code frame, help and notes (the `full` format adds the fix below)."""
    return _frame(finding, source)


def console_for(report: RunReport, buffer: io.StringIO) -> Console:
    from rich.console import Console

    return Console(
        file=buffer,
        force_terminal=report.color,
        no_color=not report.color,
        color_system="standard" if report.color else None,
        highlight=False,
        soft_wrap=True,
        width=10_000,
    )


def write(report: RunReport, blocks: list[Text]) -> str:
    """The blocks, then the summary line unless the run is quiet, one print each."""
    summary = None if report.quiet else summary_line(report)
    if not report.color:
        printed = [block.plain() for block in blocks]
        if summary is not None:
            printed.append(summary.translate(_CONTROL_CODES))
        # A tab stops at a multiple of 8 terminal cells, which wide characters make
        # differ from characters: rich measures cells, so a rare text with a tab goes to it.
        if not any("\t" in line for line in printed):
            return "".join(f"{line}\n" for line in printed)
    from rich.text import Text as RichText

    buffer = io.StringIO()
    console = console_for(report, buffer)
    for block in blocks:
        styled = RichText()
        for text, style in block.pieces:
            styled.append(text, style=style)
        console.print(styled)
    if summary is not None:
        console.print(summary, markup=False)
    return buffer.getvalue()


def render(report: RunReport) -> str:
    blocks = [
        _frame(finding, source_for(report, finding), report.unsafe_fixes)
        for finding in report.findings
    ]
    return write(report, blocks)
