"""BN4xx: numerics and state of normalization layers."""

from __future__ import annotations

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument, number
from bnlint.analysis.names import dotted_name
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

KERAS_MOMENTUM_THRESHOLD = 0.5


def _complement(value: float) -> str:
    """`1 - m` written as a short literal: 0.99 -> '0.01'."""
    return repr(round(1 - value, 10))


@register
class KerasMomentum(Rule):
    """A BatchNorm momentum of 0.5 or more: a Keras value in PyTorch's opposite convention."""

    code = "BN401"
    name = "keras-momentum"
    severity = Severity.ERROR
    fixable = FixAvailability.ALWAYS
    fix_safety = "unsafe"
    triggers = (b"momentum",)
    message = (
        "`momentum={value}` follows the Keras convention (weight of the old statistics); "
        "PyTorch's momentum is the weight of the new batch, so the running statistics "
        "will follow only the last few batches"
    )
    hint = "use `momentum={replacement}` (1 - {value}); PyTorch's default is 0.1"

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.names
        if names.matches(node.func, torch_api.BATCH_NORMS):
            self._check(argument(node, "momentum", torch_api.BATCH_NORM_MOMENTUM_POSITION))
        elif names.matches(node.func, torch_api.FUNCTIONAL_BATCH_NORM):
            self._check(argument(node, "momentum", torch_api.FUNCTIONAL_MOMENTUM_POSITION))
        elif names.matches(node.func, torch_api.PARTIAL) and node.args:
            target = node.args[0]
            if target.keyword is None and not target.star:
                if names.matches(target.value, torch_api.BATCH_NORMS):
                    # partial(BN, num_features, eps, momentum): positions shift by one.
                    self._check(
                        argument(node, "momentum", torch_api.BATCH_NORM_MOMENTUM_POSITION + 1)
                    )

    def visit_Assign(self, node: cst.Assign) -> None:
        # `m.momentum = 0.99` inside `if isinstance(m, nn.BatchNorm2d):`
        for target in node.targets:
            attribute = target.target
            if not isinstance(attribute, cst.Attribute) or attribute.attr.value != "momentum":
                continue
            owner = dotted_name(attribute.value)
            if owner is not None and self._guarded_as_batch_norm(owner):
                self._check_value(node.value)

    def _guarded_as_batch_norm(self, owner: str) -> bool:
        """Whether an enclosing `if isinstance(owner, <BatchNorm class>)` guards this line."""
        for ancestor in reversed(self.ctx.ancestors):
            if not isinstance(ancestor, cst.If):
                continue
            test = ancestor.test
            if not (
                isinstance(test, cst.Call)
                and isinstance(test.func, cst.Name)
                and test.func.value == "isinstance"
                and len(test.args) == 2
                and dotted_name(test.args[0].value) == owner
            ):
                continue
            classes = test.args[1].value
            candidates = (
                [element.value for element in classes.elements]
                if isinstance(classes, cst.Tuple)
                else [classes]
            )
            if any(self.ctx.names.matches(c, torch_api.BATCH_NORMS) for c in candidates):
                return True
        return False

    def _check(self, arg: cst.Arg | None) -> None:
        if arg is not None:
            self._check_value(arg.value)

    def _check_value(self, value_node: cst.BaseExpression) -> None:
        value = number(value_node)
        if value is None or not KERAS_MOMENTUM_THRESHOLD <= value <= 1:
            return
        replacement = _complement(value)
        written = self.ctx.code_for(value_node)
        self.report(
            value_node,
            value=written,
            replacement=replacement,
            fix=NodeFix(
                Applicability.UNSAFE,
                f"Replace `{written}` with `{replacement}`",
                (Replace(value_node, replacement),),
            ),
        )
