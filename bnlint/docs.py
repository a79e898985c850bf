"""Rule documents (rules/<CODE>.md) and the rule table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bnlint.diagnostics import RULES_URL
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
        rows.append(
            (
                code,
                rule.name,
                rule.severity.value,
                rule.fixable.value,
                "on" if rule.default_enabled else "off",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in rows
    )


_FIX_WORDS = {"never": "none", "sometimes": "sometimes", "always": "always"}


def header_line(code: str) -> str:
    """The line under a document's title, mirroring the registry (a test keeps it in sync)."""
    rule = all_rules()[code]
    fix = _FIX_WORDS[rule.fixable.value]
    if rule.fix_safety:
        fix += f" ({rule.fix_safety})"
    parts = [f"Severity: {rule.severity.value}", f"Fix: {fix}"]
    if not rule.default_enabled:
        parts.append("Off by default")
    if rule.runtime_only:
        parts.append("Runtime probe only")
    parts.append(f"Added in {rule.added_in}")
    return " · ".join(parts)


def readme_rules_table() -> str:
    """The Markdown rule table of the README (a test keeps it in sync)."""
    lines = ["| code | name | severity | fix | what it flags |", "|---|---|---|---|---|"]
    for code, rule in all_rules().items():
        fix = _FIX_WORDS[rule.fixable.value]
        severity = rule.severity.value + ("" if rule.default_enabled else ", off by default")
        lines.append(
            f"| [{code}](rules/{code}.md) | {rule.name} | {severity} | {fix} | {rule.summary()} |"
        )
    return "\n".join(lines)


def rule_json(code: str) -> dict[str, object]:
    """One rule as `bnlint rule --output-format json` prints it (ruff's fields, where they
    mean something here)."""
    rule = all_rules()[code]
    return {
        "code": code,
        "name": rule.name,
        "summary": rule.summary(),
        "severity": rule.severity.value,
        "fix": rule.fixable.value,
        "fix_safety": rule.fix_safety or None,
        "default_enabled": rule.default_enabled,
        "runtime_only": rule.runtime_only,
        "added_in": rule.added_in,
        "options": dict(rule.options),
        "message_formats": [rule.message],
        "url": RULES_URL.format(code=code),
        "explanation": rule_document(code),
    }


def all_rule_documents() -> str:
    """Every rule's document, in code order, as `bnlint rule --all` prints them."""
    return "\n".join(rule_document(code).rstrip("\n") + "\n" for code in all_rules())
