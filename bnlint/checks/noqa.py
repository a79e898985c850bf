"""BN002: suppression comments that suppress nothing (the engine computes it after the walk)."""

from __future__ import annotations

from bnlint.diagnostics import FixAvailability, Severity
from bnlint.registry import Rule, register


@register
class UnusedNoqa(Rule):
    """A `# noqa` comment naming a bnlint rule that reports nothing there."""

    code = "BN002"
    name = "unused-noqa"
    severity = Severity.WARNING
    message = "unused `noqa` directive: {detail}"
    hint = "remove it (`--fix` does): a stale suppression hides the finding if the bug comes back"
    fixable = FixAvailability.ALWAYS
    fix_safety = "safe"
    # Off by default, as ruff's RUF100: a project opts in once its suppressions are tidy.
    default_enabled = False
    triggers = (b"noqa",)
