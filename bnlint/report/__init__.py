"""One module per --format; each is a pure function from a RunReport to text.

Reporters are imported only when their format is used, so `bnlint check` in a
pre-commit hook never pays for rich or XML it does not print.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from bnlint.diagnostics import OUTPUT_FORMATS, Finding, RelatedLocation, Severity
from bnlint.source import SourceText

FORMATS = OUTPUT_FORMATS
# The formats that end with the "Found N findings." / "All checks passed!" summary.
SUMMARY_FORMATS = frozenset({"text", "full", "concise", "grouped"})


@dataclass(frozen=True)
class RunReport:
    findings: Sequence[Finding]
    # The text of each file with findings, by filename (code frames, fingerprints).
    sources: Mapping[str, SourceText] = field(default_factory=dict)
    files_checked: int = 0
    fixes_applied: int = 0
    color: bool = False
    # Rule metadata for SARIF's driver.rules: code -> (name, summary, severity).
    rules: Mapping[str, tuple[str, str, Severity]] = field(default_factory=dict)
    version: str = "0.0.0"
    # Findings only: no summary line.
    quiet: bool = False
    # The run applies (and offers) unsafe fixes: they count as fixable with `--fix`.
    unsafe_fixes: bool = False
    # Notebook cells by (filename, cell number): a notebook finding's rows count within these.
    cell_sources: Mapping[tuple[str, int], SourceText] = field(default_factory=dict)
    # The folder the run's relative filenames count from (the project root, in CI the
    # repository's): formats whose consumer wants repository-relative paths use it.
    root: str = ""
    # The folder relative filenames count from (the working directory); empty: `root`.
    cwd: str = ""


def source_for(report: RunReport, finding: Finding) -> SourceText | None:
    """The text a finding's rows count in: its file, or its notebook cell."""
    if finding.cell is not None:
        return report.cell_sources.get((finding.filename, finding.cell))
    return report.sources.get(finding.filename)


def location_label(finding: Finding | RelatedLocation) -> str:
    """`path:row:col`, or `notebook.ipynb:cell 9:3:5` for a notebook cell."""
    start = finding.span.start
    if finding.cell is not None:
        return f"{finding.filename}:cell {finding.cell}:{start.row}:{start.column}"
    return f"{finding.filename}:{start.row}:{start.column}"


def relative_path(filename: str, root: str, cwd: str = "") -> str:
    """`filename` (relative to the absolute folder `cwd`, by default `root`) relative to the
    absolute folder `root`, with `/` separators and no `./`.

    A file outside `root` keeps its absolute path, the only one that still names it. A
    pure function of its strings: it asks neither the file system nor the process.
    """
    if filename == "-":
        return filename
    if not root:
        return PurePath(os.path.normpath(filename)).as_posix()
    absolute = os.path.normpath(os.path.join(cwd or root, filename))
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        return PurePath(absolute).as_posix()
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return PurePath(absolute).as_posix()
    return PurePath(relative).as_posix()


def render(format_name: str, report: RunReport) -> str:
    if format_name not in FORMATS:
        raise ValueError(f"unknown format {format_name!r}")
    module_name = format_name.replace("-", "_")
    module = importlib.import_module(f"bnlint.report.{module_name}_format")
    text: str = module.render(report)
    return text


def fixable_now(finding: Finding, unsafe_fixes: bool) -> bool:
    """Whether `--fix` fixes this finding in this run: a safe fix, or any fix when the run
    allows unsafe ones. This is what the `[*]` marker promises."""
    if finding.fix is None:
        return False
    return unsafe_fixes or finding.fix.applicability.value == "safe"


def marker(finding: Finding, unsafe_fixes: bool = False) -> str:
    return "[*] " if fixable_now(finding, unsafe_fixes) else ""


def _count(count: int) -> str:
    return f"{count} finding" if count == 1 else f"{count} findings"


def summary_line(report: RunReport) -> str:
    count = len(report.findings)
    if report.fixes_applied:
        # As ruff says it: everything found, how much of it the fixes took care of.
        total = count + report.fixes_applied
        line = f"Found {_count(total)} ({report.fixes_applied} fixed, {count} remaining)."
    elif count == 0:
        return "All checks passed!"
    else:
        line = f"Found {_count(count)}."
    fixable = sum(1 for f in report.findings if f.fix is not None)
    now = sum(1 for f in report.findings if fixable_now(f, report.unsafe_fixes))
    if now:
        line += f"\n[*] {now} fixable with `--fix`"
        if fixable > now:
            line += f" ({fixable - now} more with `--unsafe-fixes`)"
        line += "."
    elif fixable:
        line += f"\n{fixable} fixable with `--fix --unsafe-fixes`."
    return line
