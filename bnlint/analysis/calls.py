"""Arguments of calls by keyword or position, and the literal values they hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from bnlint.analysis.project import FunctionFacts


def argument(call: cst.Call, keyword: str, position: int | None = None) -> cst.Arg | None:
    """The argument passed as `keyword=` or as the `position`-th positional argument.

    >>> argument(parse("nn.BatchNorm2d(64, 1e-5, 0.9)"), "momentum", 2).value  -> 0.9
    Returns None when absent, or when a `*args` before that position hides it.
    """
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    if position is None:
        return None
    for index, arg in enumerate(call.args):
        if arg.keyword is not None or arg.star == "**":
            break
        if arg.star == "*":
            return None
        if index == position:
            return arg
    return None


def has_star_args(call: cst.Call) -> bool:
    return any(arg.star for arg in call.args)


def number(node: cst.BaseExpression) -> float | int | None:
    """The value of an int or float literal (with an optional unary minus), else None.

    >>> number(parse_expression("0.99")) -> 0.99;  number(parse_expression("m")) -> None
    """
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = number(node.expression)
        return None if inner is None else -inner
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.Float):
        return float(node.evaluated_value)
    return None


def boolean(node: cst.BaseExpression) -> bool | None:
    """True/False for the literals `True`/`False`, else None."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def argument_for(call: cst.Call, summary: FunctionFacts) -> cst.BaseExpression | None:
    """The argument `call` gives the parameter its function returns unchanged, if any."""
    param = summary.returns_param
    if param is None or param not in summary.params:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == param:
            return arg.value
    index = summary.params.index(param)
    if summary.params[:1] == ("self",):
        index -= 1
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    return positional[index].value if 0 <= index < len(positional) else None
