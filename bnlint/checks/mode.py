"""BN1xx: the train/eval mode of models."""

from __future__ import annotations

import libcst as cst

from bnlint.analysis.names import dotted_name
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

_MODE_METHODS = frozenset({"eval", "train"})


@register
class ModeMethodNotCalled(Rule):
    """`model.eval` or `model.train` written as a statement without the call."""

    code = "BN105"
    name = "mode-method-not-called"
    severity = Severity.ERROR
    fixable = FixAvailability.ALWAYS
    fix_safety = "safe"
    # A bare `x.eval` / `x.train` ends its line (perhaps before a comment or a `;`).
    trigger_pattern = rb"\.(?:eval|train)[ \t]*(?:[#;\r\n]|$)"
    message = "`{expression}` is never called, so `{model}` stays in its current mode"
    hint = "call it: `{expression}()`"

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if not isinstance(value, cst.Attribute) or value.attr.value not in _MODE_METHODS:
            return
        expression = dotted_name(value)
        if expression is None:
            return
        # `torch.eval`-style names from imported modules are not models.
        if self.ctx.names.qualified_name(value.value) is not None:
            return
        self.report(
            value,
            expression=expression,
            model=dotted_name(value.value) or expression,
            fix=NodeFix(
                Applicability.SAFE,
                f"Call `{expression}()`",
                (Replace(value, f"{self.ctx.code_for(value)}()"),),
            ),
        )
