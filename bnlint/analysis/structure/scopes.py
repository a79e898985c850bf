"""Name bindings of a function or module, and the values of expressions read in them.

A name counts as known only when its frame binds it exactly once, by a plain
assignment: a loop variable, a parameter or a name assigned twice stays unknown.
A helper function reached from a call site binds its parameters to the call's
arguments (a `Scope` with substitutions), one level deep.

The bindings are the semantic model's (`analysis/semantic/scopes.py`), read the way the
structural questions want them: a `Frame` is the module or one function, class bodies
belong to no frame, and a function's header (decorators, defaults) to neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.calls import boolean
from bnlint.analysis.semantic.scopes import Binding, ScopeBindings

_MAX_DEPTH = 8


class Frame:
    """The bindings of one function body or of the module's top level."""

    def __init__(
        self, node: cst.Module | cst.FunctionDef, parent: Frame | None, facts: ScopeBindings
    ) -> None:
        self.node = node
        self.parent = parent
        # name -> the value of each binding (None for a binding that is not `name = value`).
        self.bindings: dict[str, list[cst.BaseExpression | None]] = {}
        self.params: dict[str, cst.Param] = {}
        # Calls written in this frame (not in nested functions), in source order.
        self.calls: list[cst.Call] = facts.calls
        # `self.name = value` assignments, in source order.
        self.attribute_assignments: list[tuple[str, cst.BaseExpression]] = facts.self_attributes
        if isinstance(node, cst.FunctionDef):
            params = node.params
            for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
                self.params[param.name.value] = param
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    self.params[star.name.value] = star
        module = isinstance(node, cst.Module)
        for name, found in facts.names.items():
            values = _values(found, facts.header, module)
            if values:
                self.bindings[name] = values

    def single_value(self, name: str) -> cst.BaseExpression | None:
        """The value of `name` when this frame binds it exactly once by `name = value`."""
        values = self.bindings.get(name)
        if name in self.params or values is None or len(values) != 1:
            return None
        return values[0]

    def binds(self, name: str) -> bool:
        return name in self.params or name in self.bindings


def _values(
    found: list[Binding], header: list[Binding], module: bool
) -> list[cst.BaseExpression | None]:
    """A name's bindings in a frame: the value of each plain `name = value`, None for any
    other binding; parameters, bare annotations and a function header's bindings left out.
    `global`/`nonlocal` count twice, so the name is never taken as bound once."""
    values: list[cst.BaseExpression | None] = []
    for binding in found:
        node = binding.node
        if binding.kind in ("param", "declare") or isinstance(node, cst.Param):
            continue
        if header and any(binding is h for h in header):
            continue
        if isinstance(node, cst.Global | cst.Nonlocal):
            # The module side of a function's `global x` is the semantic model's, not a
            # binding written at the module's top level.
            if not (module and binding.kind == "other" and isinstance(node, cst.Global)):
                values.extend((None, None))
            continue
        values.append(binding.value if binding.kind == "assign" else None)
    return values


@dataclass(frozen=True)
class Scope:
    """Where an expression is read: a frame, and for a helper, its bound parameters."""

    frame: Frame
    # Parameter name -> (the argument expression, the caller's scope).
    substitutions: dict[str, tuple[cst.BaseExpression, Scope]] = field(default_factory=dict)

    def same_frame(self, other: Scope) -> bool:
        return self.frame is other.frame and self.substitutions == other.substitutions

    def lookup(self, name: str) -> tuple[cst.BaseExpression, Scope] | None:
        """The single value `name` is bound to and the scope to read that value in.

        >>> `def f(): c = 64; nn.BatchNorm2d(c)` -> (the `64` node, f's scope)
        >>> a loop variable, a parameter with no substitution, `c` assigned twice -> None
        """
        if name in self.substitutions:
            return self.substitutions[name]
        frame = self.frame
        if frame.binds(name):
            value = frame.single_value(name)
            return None if value is None else (value, self)
        parent = frame.parent
        while parent is not None:
            if parent.binds(name):
                value = parent.single_value(name)
                return None if value is None else (value, Scope(parent))
            parent = parent.parent
        return None

    def integer(self, node: cst.BaseExpression, depth: int = 0) -> int | None:
        """The int value of `node`, or None when not known for certain."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, cst.Integer):
            return int(node.evaluated_value)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            inner = self.integer(node.expression, depth + 1)
            return None if inner is None else -inner
        if isinstance(node, cst.BinaryOperation):
            left = self.integer(node.left, depth + 1)
            right = self.integer(node.right, depth + 1)
            if left is None or right is None:
                return None
            return _arithmetic(node.operator, left, right)
        if isinstance(node, cst.Name):
            found = self.lookup(node.value)
            if found is None:
                return None
            value, scope = found
            return scope.integer(value, depth + 1)
        return None

    def boolean(self, node: cst.BaseExpression, depth: int = 0) -> bool | None:
        """True/False for the literals, or a name bound to one; None otherwise."""
        known = boolean(node)
        if known is not None or depth > _MAX_DEPTH or not isinstance(node, cst.Name):
            return known
        found = self.lookup(node.value)
        if found is None:
            return None
        value, scope = found
        return scope.boolean(value, depth + 1)

    def key(self, node: cst.BaseExpression) -> str:
        return "".join(cst.Module([]).code_for_node(node).split())


def _arithmetic(operator: cst.BaseBinaryOp, left: int, right: int) -> int | None:
    if isinstance(operator, cst.Add):
        return left + right
    if isinstance(operator, cst.Subtract):
        return left - right
    if isinstance(operator, cst.Multiply):
        return left * right
    if isinstance(operator, cst.FloorDivide) and right != 0:
        return left // right
    return None
