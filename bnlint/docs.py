"""Rule documents (rules/<CODE>.md) and the rule table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bnlint.registry import all_rules


def rules_directory() -> Path:
    """rules/ inside the installed wheel, or at the top of a source checkout."""
    packaged = Path(str(resources.files("bnlint"))) / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def rule_document(code: str) -> str:
    path = rules_directory() / f"{code}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"# {code}\n\n(no document found at {path})\n"


def list_rules_table() -> str:
    rows = [("code", "name", "severity", "fix", "default")]
    for code, rule in all_rules().items():
        rows.append((code, rule.name, rule.severity.value, rule.fixable.value, "on" if rule.default_enabled else "off"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
