"""BN001: files bnlint cannot read."""

from __future__ import annotations

from bnlint.diagnostics import Severity
from bnlint.registry import Rule, register


@register
class SyntaxError_(Rule):
    """A file that cannot be decoded or parsed; bnlint cannot check it."""

    code = "BN001"
    name = "syntax-error"
    severity = Severity.ERROR
    message = "cannot parse this file: {detail}"
    hint = "fix the syntax or encoding so bnlint can check the file"
