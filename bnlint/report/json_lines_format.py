"""One JSON object per line (the `json` format's elements), for streaming consumers."""

from __future__ import annotations

import json

from bnlint.report import RunReport


def render(report: RunReport) -> str:
    return "".join(json.dumps(f.to_json(), ensure_ascii=False) + "\n" for f in report.findings)
