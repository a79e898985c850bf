"""Name bindings of a function or module, and the values of expressions read in them.

A name counts as known only when its frame binds it exactly once, by a plain
assignment: a loop variable, a parameter or a name assigned twice stays unknown.
A helper function reached from a call site binds its parameters to the call's
arguments (a `Scope` with substitutions), one level deep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.calls import boolean
from bnlint.analysis.walk import walk

_MAX_DEPTH = 8


class Frame:
    """The bindings of one function body or of the module's top level."""

    def __init__(self, node: cst.Module | cst.FunctionDef, parent: Frame | None) -> None:
        self.node = node
        self.parent = parent
        # name -> the value of each binding (None for a binding that is not `name = value`).
        self.bindings: dict[str, list[cst.BaseExpression | None]] = {}
        self.params: dict[str, cst.Param] = {}
        # Calls written in this frame (not in nested functions), in source order.
        self.calls: list[cst.Call] = []
        # `self.name = value` assignments, in source order.
        self.attribute_assignments: list[tuple[str, cst.BaseExpression]] = []
        if isinstance(node, cst.FunctionDef):
            params = node.params
            for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
                self.params[param.name.value] = param
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param):
                    self.params[star.name.value] = star
        collector = _BindingCollector(self)
        roots = list(node.body) if isinstance(node, cst.Module) else [node.body]
        for root in roots:
            walk(root, collector.enter)

    def bind(self, name: str, value: cst.BaseExpression | None) -> None:
        self.bindings.setdefault(name, []).append(value)

    def single_value(self, name: str) -> cst.BaseExpression | None:
        """The value of `name` when this frame binds it exactly once by `name = value`."""
        values = self.bindings.get(name)
        if name in self.params or values is None or len(values) != 1:
            return None
        return values[0]

    def binds(self, name: str) -> bool:
        return name in self.params or name in self.bindings


class _BindingCollector:
    """Every binding in a frame, not descending into nested functions and classes."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def enter(self, node: cst.CSTNode) -> bool:
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is None:
            return True
        return handler(node) is not False

    def _targets(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.frame.bind(target.value, value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._targets(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, None)

    def _self_attribute(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
        ):
            self.frame.attribute_assignments.append((target.attr.value, value))

    def visit_Assign(self, node: cst.Assign) -> None:
        single = len(node.targets) == 1
        for target in node.targets:
            self._targets(target.target, node.value if single else None)
            self._self_attribute(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._targets(node.target, node.value)
            self._self_attribute(node.target, node.value)

    def visit_Call(self, node: cst.Call) -> None:
        self.frame.calls.append(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets(node.target, None)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target, None)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        # Comprehension variables live in their own scope, but a name shared with the
        # frame must not be read as the frame's value inside the comprehension.
        self._targets(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._targets(node.asname.name, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target, None)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._targets(node.name.name, None)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            if isinstance(name, cst.Name):
                self.frame.bind(name.value, None)
            elif isinstance(name, cst.Attribute):
                root: cst.BaseExpression = name
                while isinstance(root, cst.Attribute):
                    root = root.value
                if isinstance(root, cst.Name):
                    self.frame.bind(root.value, None)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = alias.asname.name if alias.asname else alias.name
            if isinstance(name, cst.Name):
                self.frame.bind(name.value, None)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.frame.bind(item.name.value, None)
            self.frame.bind(item.name.value, None)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self.frame.bind(item.name.value, None)
            self.frame.bind(item.name.value, None)

    def visit_Del(self, node: cst.Del) -> None:
        self._targets(node.target, None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.frame.bind(node.name.value, None)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.frame.bind(node.name.value, None)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


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
