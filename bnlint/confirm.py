"""`bnlint check --probe-report FILE...`: mark static findings the runtime probe also observed.

`bnlint run` and `bnlint probe` write paths relative to the project root (the folder of the
nearest pyproject.toml, else the working directory), as `bnlint check` resolves it. A static
finding is confirmed when a report holds the same code at the same file and line: the
runtime finding's own location, or one of its related locations (the probe pins BN301 at the
`batch_size` value and notes the forward that used it; BN201 at the constructor and notes the
call in `forward`), so either anchor of the static rule joins.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bnlint.diagnostics import Finding

# (code, path relative to the project root or absolute, row)
Anchor = tuple[str, str, int]


def _error(report: Path, why: object) -> SystemExit:
    sys.stderr.write(f"error: {report} is not a JSON report of `bnlint run --format json`: {why}\n")
    return SystemExit(2)


def _observed(report: Path) -> set[Anchor]:
    """Every (code, file, row) a report names, related locations included."""
    try:
        data: Any = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _error(report, error) from None
    if not isinstance(data, list):
        raise _error(report, "expected a list of findings")
    anchors: set[Anchor] = set()
    try:
        for item in data:
            code = str(item["code"])
            places = [item, *item.get("related", ())]
            for place in places:
                name = str(place["filename"])
                anchors.add((code, _normal(name), int(place["location"]["row"])))
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise _error(report, f"a finding lacks {error}") from None
    return anchors


def _normal(name: str) -> str:
    return name if os.path.isabs(name) else Path(name).as_posix().removeprefix("./")


class _Roots:
    """The project root of each static finding's file, as the probe resolved it for the script."""

    def __init__(self, root: Path | None) -> None:
        self._fixed = root
        self._resolver: Any = None

    def key(self, filename: str) -> str:
        path = Path(filename).absolute()
        root = self._fixed or self._root_of(path)
        try:
            return path.relative_to(root.absolute()).as_posix()
        except ValueError:
            return str(path)

    def _root_of(self, path: Path) -> Path:
        from bnlint.config import CliOverrides, ConfigError, ConfigResolver

        try:
            if self._resolver is None:
                self._resolver = ConfigResolver(CliOverrides())
            return Path(self._resolver.settings_for(path).root)
        except ConfigError:
            return Path.cwd()


def mark_confirmed(
    findings: list[Finding],
    reports: str | Path | Sequence[str | Path],
    root: Path | None = None,
) -> list[Finding]:
    """Findings with `confirmed=True` where a runtime report has the same code at the same
    file and line (reports may be several: one per script or process run under the probe).

    `root` is the project root report paths start from; by default each file's own, found
    as `bnlint check` finds its configuration.

    >>> mark_confirmed([BN101 at infer.py:12], ["probe.json"])  # probe saw BN101 at infer.py:12
    [BN101 at infer.py:12, confirmed]
    """
    paths: Iterable[str | Path] = [reports] if isinstance(reports, (str, Path)) else reports
    observed: set[Anchor] = set()
    for report in paths:
        observed |= _observed(Path(report))
    if not observed:
        return list(findings)
    roots = _Roots(root)
    marked = []
    for finding in findings:
        if not finding.confirmed and finding.cell is None:
            anchor = (finding.code, roots.key(finding.filename), finding.span.start.row)
            if anchor in observed:
                finding = replace(finding, confirmed=True)
        marked.append(finding)
    return marked
