"""Probe findings through the static linter's reporters, `# noqa` included."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from bnlint._version import __version__
from bnlint.diagnostics import Finding
from bnlint.report import RunReport, render
from bnlint.source import SourceText, UndecodableSource, decode
from bnlint.suppression import file_is_suppressed, line_suppresses


def _sources(findings: Sequence[Finding]) -> dict[str, SourceText]:
    sources: dict[str, SourceText] = {}
    for finding in findings:
        if finding.filename in sources:
            continue
        try:
            sources[finding.filename] = decode(
                Path(finding.extra.get("path", finding.filename)).read_bytes()
            )
        except (OSError, UndecodableSource):
            continue
    return sources


def unsuppressed(
    findings: Sequence[Finding], enabled: frozenset[str] | None = None
) -> list[Finding]:
    """The findings left after `--select`/`--ignore` and the `# noqa` comments of their lines."""
    sources = _sources(findings)
    kept = []
    for finding in findings:
        if enabled is not None and finding.code not in enabled:
            continue
        source = sources.get(finding.filename)
        if source is not None and (
            file_is_suppressed(source.text)
            or line_suppresses(source.line(finding.span.start.row), finding.code)
        ):
            continue
        kept.append(finding)
    return kept


def render_findings(
    findings: Sequence[Finding], output_format: str, *, color: bool = False, quiet: bool = False
) -> str:
    from bnlint.registry import all_rules

    rules = all_rules()
    report = RunReport(
        findings=list(findings),
        sources=_sources(findings),
        files_checked=len({f.filename for f in findings}),
        color=color,
        rules={code: (rule.name, rule.summary(), rule.severity) for code, rule in rules.items()},
        version=__version__,
        quiet=quiet,
    )
    return render(output_format, report)


def write_report(
    findings: Sequence[Finding], output_format: str, output: str | None, *, quiet: bool = False
) -> None:
    """To `output`, else to standard error (standard output belongs to the user's code)."""
    if output:
        Path(output).write_text(render_findings(findings, output_format), encoding="utf-8")
        return
    import os

    color = (
        output_format == "text"
        and not os.environ.get("NO_COLOR")
        and (bool(os.environ.get("FORCE_COLOR")) or sys.stderr.isatty())
    )
    sys.stderr.write(render_findings(findings, output_format, color=color, quiet=quiet))
    sys.stderr.flush()
