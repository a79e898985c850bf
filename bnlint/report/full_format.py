"""ruff's `full` format: the `text` code frame of each finding, then its fix as a diff."""

from __future__ import annotations

from bnlint.diagnostics import Finding, Fix, Position
from bnlint.report import RunReport, source_for
from bnlint.report.text_format import Text, frame, write
from bnlint.source import SourceText


def _fixed_lines(fix: Fix, source: SourceText) -> tuple[int, list[str], list[str]]:
    """(first row, lines before, lines after) of the rows the fix's edits touch."""
    first = min(edit.span.start.row for edit in fix.edits)
    last = min(max(edit.span.end.row for edit in fix.edits), max(source.line_count, 1))
    begin = source.offset(Position(first, 1))
    end = max(
        source.offset(Position(last, len(source.line(last)) + 1)),
        *(source.offset(edit.span.end) for edit in fix.edits),
    )
    before = source.text[begin:end]
    after = before
    for edit in sorted(fix.edits, key=lambda e: e.span, reverse=True):
        start = source.offset(edit.span.start) - begin
        stop = source.offset(edit.span.end) - begin
        after = after[:start] + edit.content + after[stop:]
    return first, before.splitlines(), after.splitlines()


def _fix_diff(finding: Finding, source: SourceText | None) -> Text:
    text = Text()
    fix = finding.fix
    if fix is None or not fix.edits or source is None:
        return text
    first, before, after = _fixed_lines(fix, source)
    width = len(str(first + max(len(before), len(after))))
    gutter = " " * width
    text.append(f"{gutter} = ", style="blue")
    text.append(f"fix ({fix.applicability.value})", style="bold cyan")
    text.append(f": {fix.message}\n")
    for offset, line in enumerate(before):
        text.append(f"{first + offset:>{width}} ", style="blue")
        text.append(f"- {line.expandtabs(1)}\n", style="red")
    for offset, line in enumerate(after):
        text.append(f"{first + offset:>{width}} ", style="blue")
        text.append(f"+ {line.expandtabs(1)}\n", style="green")
    return text


def render(report: RunReport) -> str:
    blocks = []
    for finding in report.findings:
        source = source_for(report, finding)
        block = frame(finding, source)
        block.append_text(_fix_diff(finding, source))
        blocks.append(block)
    return write(report, blocks)
