"""One JSON array of findings, in the schema of CONTRACT.md."""

from __future__ import annotations

import json

from bnlint.report import RunReport


def render(report: RunReport) -> str:
    return json.dumps([f.to_json() for f in report.findings], indent=2, ensure_ascii=False) + "\n"
