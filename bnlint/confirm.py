"""`bnlint check --probe-report FILE`: mark static findings the runtime probe also observed."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bnlint.diagnostics import Finding


def _parts(filename: str) -> tuple[str, ...]:
    return Path(filename).parts


def _same_file(static: str, runtime: str) -> bool:
    """The same file, though each tool printed it relative to its own working directory."""
    try:
        if Path(static).resolve() == Path(runtime).resolve():
            return True
    except OSError:
        pass
    a, b = _parts(static), _parts(runtime)
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    shorter = tuple(p for p in shorter if p not in (".", ".."))
    return bool(shorter) and longer[len(longer) - len(shorter) :] == shorter


def _observed(report: Path) -> list[tuple[str, str, int]]:
    try:
        data: Any = json.loads(report.read_text(encoding="utf-8"))
        return [
            (str(item["code"]), str(item["filename"]), int(item["location"]["row"]))
            for item in data
        ]
    except (OSError, ValueError, TypeError, KeyError) as error:
        sys.stderr.write(
            f"error: {report} is not a JSON report of `bnlint run --format json`: {error}\n"
        )
        raise SystemExit(2) from None


def mark_confirmed(findings: list[Finding], report: Path) -> list[Finding]:
    """Findings with `confirmed=True` where the runtime report has the same code at the same line.

    >>> mark_confirmed([BN101 at infer.py:12], Path("probe.json"))  # probe saw BN101 at infer.py:12
    [BN101 at infer.py:12, confirmed]
    """
    observed = _observed(report)
    by_line: dict[tuple[str, int], list[str]] = {}
    for code, filename, row in observed:
        by_line.setdefault((code, row), []).append(filename)
    marked = []
    for finding in findings:
        candidates = by_line.get((finding.code, finding.span.start.row), [])
        if any(_same_file(finding.filename, name) for name in candidates):
            finding = replace(finding, confirmed=True)
        marked.append(finding)
    return marked
