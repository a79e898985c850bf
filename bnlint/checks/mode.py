"""BN1xx: the train/eval mode of models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis.intent import Purpose
from bnlint.analysis.names import dotted_name
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import InsertBefore, NodeFix, Replace, Rule, register

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

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


def _statement_for_insert(ctx: FileContext, at: cst.CSTNode) -> cst.CSTNode | None:
    """The statement holding `at` when a new statement can go right before it."""
    chain = list(reversed(ctx.ancestors))
    if at in chain:
        chain = chain[chain.index(at) :]
    for index, node in enumerate(chain):
        if isinstance(node, cst.SimpleStatementSuite):
            return None
        if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            parent = chain[index + 1] if index + 1 < len(chain) else None
            return node if isinstance(parent, cst.IndentedBlock | cst.Module) else None
    return None


@register
class MissingEval(Rule):
    """A model that may be in training mode is run for evaluation or inference."""

    code = "BN101"
    name = "missing-eval"
    severity = Severity.ERROR
    fixable = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    triggers = (b"no_grad", b"inference_mode", b"set_grad_enabled", b"def ", b"load")
    message = "`{model}` may still be in training mode {context} ({reason}), so {effect}"
    hint = "call `{model}.eval()` before {purpose}"

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        model = ctx.models.model_called_by(node)
        if model is None or not model.has_mode_dependent_layers:
            return
        purpose = ctx.intent.inference_purpose(node)
        if purpose is None and not ctx.intent.in_training_step(node):
            if ctx.intent.single_sample(node):
                purpose = Purpose("on a single unsqueezed sample", "predicting")
            else:
                purpose = ctx.intent.checkpoint_inference(node)
        if purpose is None:
            return
        fact = ctx.modes.may_be_training(model.key, at=node)
        if fact is None:
            return
        if fact.assumed and not purpose.context.startswith(("under", "in `")):
            return
        anchor = purpose.node or _statement_for_insert(ctx, node)
        fix = None
        if anchor is not None:
            fix = NodeFix(
                Applicability.UNSAFE,
                f"Insert `{model.key}.eval()`",
                (InsertBefore(anchor, f"{model.key}.eval()"),),
            )
        self.report(
            node,
            model=model.key,
            context=purpose.context,
            reason=fact.reason,
            effect=model.training_effect(),
            purpose=purpose.purpose,
            fix=fix,
        )
