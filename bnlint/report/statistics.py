"""`--statistics`: the number of findings per rule, as a table or as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from bnlint.diagnostics import Finding
from bnlint.report import fixable_now


def _counts(
    findings: Sequence[Finding], unsafe_fixes: bool
) -> list[tuple[tuple[str, str, bool], int]]:
    # Fixable where `--fix` applies in this run, as the `[*]` marker says.
    counts = Counter((f.code, f.name, fixable_now(f, unsafe_fixes)) for f in findings)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0][0], not item[0][2]))


def render(findings: Sequence[Finding], output_format: str, unsafe_fixes: bool = False) -> str:
    rows = _counts(findings, unsafe_fixes)
    if output_format in ("json", "json-lines"):
        entries = [
            {"code": code, "name": name, "count": count, "fixable": fixable}
            for (code, name, fixable), count in rows
        ]
        if output_format == "json-lines":
            return "".join(json.dumps(entry) + "\n" for entry in entries)
        return json.dumps(entries, indent=2) + "\n"
    return "".join(
        f"{count:>5}\t{code}\t{'[*] ' if fixable else ''}{name}\n"
        for (code, name, fixable), count in rows
    )
