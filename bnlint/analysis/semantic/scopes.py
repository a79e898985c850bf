"""Scopes and bindings of a file: the one model every analysis reads names from.

One walk of the module, built once per file (`ctx.semantic`), collects for the module and
every function, class and lambda: the bindings of each name, the values assigned to each
dotted key (`net`, `self.net`), the keys used as modules (`net.eval()`), the names called,
and every call and loop with the scopes around it. Value resolution accepts a name only
when its scope binds it exactly once by a plain assignment, so a value that may change is
never taken as known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from bnlint.analysis.names import dotted_name
from bnlint.analysis.torch_api import MODULE_METHODS, MOVE_METHODS
from bnlint.analysis.walk import Preorder

Scope = cst.Module | cst.FunctionDef | cst.ClassDef | cst.Lambda


@dataclass(frozen=True)
class Binding:
    """One binding of a name: `value` is set for a plain `name = value` only."""

    kind: str  # "assign", "param", "with", "other"
    value: cst.BaseExpression | None = None
    node: cst.CSTNode | None = None


@dataclass
class ScopeBindings:
    """One scope: its names, and what its own statements (not nested scopes') do."""

    scope: Scope
    parent: ScopeBindings | None
    names: dict[str, list[Binding]] = field(default_factory=dict)
    # Dotted key -> the values assigned to it, in source order: `net = Net()`, `self.net = ...`,
    # `a, b = x, y` (pairwise).
    assignments: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    # Keys a module-only method is called on (`net.eval()`, `net.parameters()`).
    module_uses: set[str] = field(default_factory=set)
    # Dotted names called as functions (`net(x)` -> "net").
    called: set[str] = field(default_factory=set)
    # Loop variable -> the iterables it is bound from: `for m in models:` -> [models].
    loop_sources: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    # Calls in the scope's own statements, in source order; a function's in its body only
    # (not its decorators, defaults or annotations), as the structural model reads them.
    calls: list[cst.Call] = field(default_factory=list)
    # `self.name = value` in the scope's own statements, in source order: ("name", value).
    self_attributes: list[tuple[str, cst.BaseExpression]] = field(default_factory=list)
    # Bindings a function's header makes (a walrus or comprehension in a default or a
    # decorator): bound here like the rest, told apart for the structural model.
    header: list[Binding] = field(default_factory=list)
    # False while the walk is in a function's header, before its body.
    in_body: bool = True

    def assign(self, key: str, value: cst.BaseExpression) -> None:
        self.assignments.setdefault(key, []).append(value)

    def add(self, name: str, binding: Binding) -> None:
        self.names.setdefault(name, []).append(binding)


class SemanticModel(cst.CSTVisitor):
    """Bindings per scope, plus writes to attributes and keys (`args.x = ...`, `cfg["x"] = ...`).

    >>> `BATCH = 4` at module level, then `index.single_assignment("BATCH", [module])`
    >>> -> the `4` node; a second `BATCH = 8` anywhere in that scope -> None
    """

    def __init__(
        self, module: cst.Module, root: Scope | None = None, tree: Preorder | None = None
    ) -> None:
        """The model of `module`; with `root` (a function, class or lambda of it), only of
        that scope's own statements: what a question about one scope needs, for a fraction
        of the walk (nested scopes are bound by name but not entered). `tree` is the
        module's flattened tree when the caller has it."""
        super().__init__()
        self.scopes: dict[cst.CSTNode, ScopeBindings] = {}
        self._stack: list[ScopeBindings] = []
        # Dotted bases whose attribute `attr` is written: ("args", "batch_size").
        self.attribute_writes: set[tuple[str, str]] = set()
        # Attributes written on any base: a config object passed around may be any of them.
        self.written_attributes: set[str] = set()
        # Dotted names whose keys are written or that are mutated in place (`.update(...)`).
        self.mutated: set[str] = set()
        # Every call in source order, with the scopes it sits in (outermost first).
        self.calls: list[cst.Call] = []
        self.call_scopes: dict[cst.Call, tuple[cst.CSTNode, ...]] = {}
        self.loops: list[tuple[cst.For, tuple[cst.CSTNode, ...]]] = []
        # `self.net = value` / `obj.attr = value`: (dotted base, attr) -> [(class, value)].
        self.attribute_values: dict[
            tuple[str, str], list[tuple[cst.ClassDef | None, cst.BaseExpression]]
        ] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.functions: list[cst.FunctionDef] = []
        self.module = module
        self._root: cst.CSTNode | None = root
        self._scope_tuple: tuple[cst.CSTNode, ...] = ()
        if root is not None and root is not module:
            # Where the root's own name is bound: outside the model.
            self._stack.append(ScopeBindings(module, None))
            self._scope_tuple = (module,)
        self._walk(tree or Preorder(module), root or module)

    # Dispatch ---------------------------------------------------------------------------
    # libcst's own on_visit formats and looks up `visit_<Kind>` for every node; one lookup
    # per node type keeps this walk, which every file with a model pays, cheap.

    def _walk(self, tree: Preorder, root: cst.CSTNode) -> None:
        """One pass in source order along the flattened tree: `visit_<Kind>` on the way
        down. Only a scope has work on the way up (leaving it), so only scopes are tracked
        until their subtree ends."""
        bounded = self._root is not None
        nodes, ends = tree.nodes, tree.ends
        start = tree.position(root) if root is not tree.nodes[0] else 0
        if start is None:
            raise ValueError("the root scope is not a node of the module")
        stop = ends[start]
        # The subtree ends of the scopes entered, innermost last.
        scope_ends: list[int] = []
        index = start
        while index < stop:
            while scope_ends and scope_ends[-1] <= index:
                scope_ends.pop()
                self._pop()
            node = nodes[index]
            kind = type(node)
            handler = _VISIT.get(kind, _UNSET)
            if handler is _UNSET:
                handler = _VISIT[kind] = getattr(SemanticModel, f"visit_{kind.__name__}", None)
            enter = handler is None or handler(self, node) is not False
            if kind in _SCOPE_KINDS:
                scope_ends.append(ends[index])
                if bounded and node is not root:
                    # A nested scope of a bounded model: bound by name, not entered.
                    enter = False
            index = index + 1 if enter else ends[index]
        for _ in scope_ends:
            self._pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        handler = _VISIT.get(kind, _UNSET)
        if handler is _UNSET:
            handler = _VISIT[kind] = getattr(SemanticModel, f"visit_{kind.__name__}", None)
        enter = handler is None or handler(self, node) is not False
        if self._root is not None and node is not self._root and isinstance(node, _NESTED):
            return False
        return enter

    def on_leave(self, original_node: cst.CSTNode) -> None:
        kind = type(original_node)
        handler = _LEAVE.get(kind, _UNSET)
        if handler is _UNSET:
            handler = _LEAVE[kind] = getattr(SemanticModel, f"leave_{kind.__name__}", None)
        if handler is not None:
            handler(self, original_node)

    # Scopes -----------------------------------------------------------------------------

    def _push(self, node: Scope) -> None:
        bindings = ScopeBindings(node, self._stack[-1] if self._stack else None)
        bindings.in_body = not isinstance(node, cst.FunctionDef)
        self.scopes[node] = bindings
        self._stack.append(bindings)
        self._scope_tuple = (*self._scope_tuple, node)

    def _pop(self) -> None:
        self._stack.pop()
        self._scope_tuple = self._scope_tuple[:-1]

    def _enter_block(self, node: cst.BaseSuite) -> None:
        top = self._stack[-1]
        if not top.in_body and isinstance(top.scope, cst.FunctionDef) and top.scope.body is node:
            top.in_body = True

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._enter_block(node)

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._enter_block(node)

    def visit_Module(self, node: cst.Module) -> None:
        self._push(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, Binding("other", node=node))
        self.functions.append(node)
        self._push(node)
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            self._bind(param.name.value, Binding("param", param.default, param))
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, Binding("other", node=star))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push(node)
        for param in node.params.params:
            self._bind(param.name.value, Binding("param", param.default, param))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, Binding("other", node=node))
        if len(self._stack) == 1:
            self.classes[node.name.value] = node
        self._push(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop()

    # Bindings ---------------------------------------------------------------------------

    def _bind(self, name: str, binding: Binding) -> None:
        top = self._stack[-1]
        top.add(name, binding)
        if not top.in_body and binding.kind != "param":
            top.header.append(binding)

    def _self_attribute(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
        ):
            self._stack[-1].self_attributes.append((target.attr.value, value))

    def _bind_target(self, target: cst.BaseExpression, binding: Binding) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, binding)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind_target(element.value, Binding("other", node=binding.node))
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, Binding("other", node=binding.node))
        elif isinstance(target, cst.Attribute):
            base = dotted_name(target.value)
            self.written_attributes.add(target.attr.value)
            if base is not None:
                self.attribute_writes.add((base, target.attr.value))
        elif isinstance(target, cst.Subscript):
            base = dotted_name(target.value)
            if base is not None:
                self.mutated.add(base)

    def _scope_nodes(self) -> tuple[cst.CSTNode, ...]:
        return self._scope_tuple

    def _enclosing_class(self) -> cst.ClassDef | None:
        for bindings in reversed(self._stack):
            if isinstance(bindings.scope, cst.ClassDef):
                return bindings.scope
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        scope = self._stack[-1]
        for target in node.targets:
            dotted = value_key(target.target)
            if dotted is not None:
                scope.assign(dotted, node.value)
            elif isinstance(target.target, cst.Tuple) and isinstance(node.value, cst.Tuple):
                names, values = target.target.elements, node.value.elements
                if len(names) == len(values):
                    for name, value in zip(names, values, strict=True):
                        inner = dotted_name(name.value)
                        if inner is not None:
                            scope.assign(inner, value.value)
        for target in node.targets:
            attribute = target.target
            if isinstance(attribute, cst.Attribute):
                base = dotted_name(attribute.value)
                if base is not None:
                    key = (base, attribute.attr.value)
                    entry = (self._enclosing_class(), node.value)
                    self.attribute_values.setdefault(key, []).append(entry)
            kind = "assign" if len(node.targets) == 1 else "other"
            self._bind_target(target.target, Binding(kind, node.value, node))
            self._self_attribute(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        key = dotted_name(node.target)
        if key is not None and node.value is not None:
            self._stack[-1].assign(key, node.value)
        kind = "assign" if node.value is not None else "declare"
        self._bind_target(node.target, Binding(kind, node.value, node))
        if node.value is not None:
            self._self_attribute(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, Binding("other", node=node))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, Binding("other", node=node))

    def visit_For(self, node: cst.For) -> None:
        self.loops.append((node, self._scope_nodes()))
        if isinstance(node.target, cst.Name):
            self._stack[-1].loop_sources.setdefault(node.target.value, []).append(node.iter)
        self._bind_target(node.target, Binding("other", node=node))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        # Comprehension variables live in their own scope; never let them resolve.
        self._bind_target(node.target, Binding("other", node=node))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, Binding("with", node.item, node))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, Binding("other", node=node))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind_target(node.target, Binding("other", node=node))

    def visit_Global(self, node: cst.Global) -> None:
        module = self._stack[0]
        for item in node.names:
            module.add(item.name.value, Binding("other", node=node))
            self._bind(item.name.value, Binding("global", node=node))

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self._bind(item.name.value, Binding("other", node=node))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                self._bind_target(alias.asname.name, Binding("other", node=node))
            else:
                top = (dotted_name(alias.name) or "").split(".")[0]
                if top:
                    self._bind(top, Binding("other", node=node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            target = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(target, cst.Name):
                self._bind(target.value, Binding("other", node=node))

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)
        self.call_scopes[node] = self._scope_nodes()
        func = node.func
        scope = self._stack[-1]
        if scope.in_body:
            scope.calls.append(node)
        called = value_key(func)
        if called is not None:
            scope.called.add(called)
        if isinstance(func, cst.Attribute) and func.attr.value in MODULE_METHODS:
            key = model_key(func.value)
            if key is not None:
                scope.module_uses.add(key)
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            base = dotted_name(func.value)
            if base is not None:
                self.mutated.add(base)
        elif isinstance(func, cst.Name) and func.value == "setattr" and node.args:
            base = dotted_name(node.args[0].value)
            if base is not None:
                self.mutated.add(base)

    # Questions --------------------------------------------------------------------------

    def chain(self, scopes: Sequence[cst.CSTNode]) -> list[ScopeBindings]:
        """The scopes among `scopes` (outermost first), as visible from the innermost."""
        found = [self.scopes[s] for s in scopes if s in self.scopes]
        if not found:
            return []
        # Class bodies are not visible from the methods inside them.
        innermost = found[-1]
        return [s for s in found if not isinstance(s.scope, cst.ClassDef) or s is innermost]

    def lookup(
        self, name: str, scopes: Sequence[cst.CSTNode]
    ) -> tuple[ScopeBindings, list[Binding]] | None:
        """The innermost scope binding `name`, and all its bindings there.

        >>> `def f(): n = 2` with scopes [module, f] -> (f's bindings, [n = 2])
        >>> a name bound nowhere in the chain -> None
        """
        for bindings in reversed(self.chain(scopes)):
            found = bindings.names.get(name)
            if found and not all(b.kind == "global" for b in found):
                return bindings, found
            if found:
                module = self.chain(scopes)[0]
                return (module, module.names[name]) if name in module.names else None
        return None

    def scope(self, node: cst.CSTNode) -> ScopeBindings:
        """The bindings of a scope node (the module, a function, class or lambda)."""
        return self.scopes[node]

    def scopes_of(self, bindings: ScopeBindings) -> list[cst.CSTNode]:
        """The scope chain that ends at `bindings` (outermost first)."""
        chain: list[cst.CSTNode] = []
        current: ScopeBindings | None = bindings
        while current is not None:
            chain.append(current.scope)
            current = current.parent
        return list(reversed(chain))


_MUTATORS = frozenset({"update", "setdefault", "pop", "__setitem__", "merge_with"})
_UNSET: Any = object()
_NESTED = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_SCOPE_KINDS = frozenset({cst.Module, cst.FunctionDef, cst.ClassDef, cst.Lambda})
_VISIT: dict[type, Any] = {}
_LEAVE: dict[type, Any] = {}


def value_key(expr: cst.BaseExpression) -> str | None:
    """`a.b`, `models["net"]`, `nets[0].head` as a key; None for anything computed.

    >>> value_key(parse_expression('models["net"]')) -> "models['net']"
    >>> value_key(parse_expression("nets[i]")) -> None
    """
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = value_key(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        base = value_key(expr.value)
        literal = literal_key(index.value) if isinstance(index, cst.Index) else None
        return None if base is None or literal is None else f"{base}[{literal!r}]"
    return None


def literal_key(node: cst.BaseExpression) -> int | str | None:
    """The value of an int or string literal used as a key or index, else None."""
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def model_key(expr: cst.BaseExpression) -> str | None:
    """The key of a model expression: `self.net.module.to(d)` -> 'self.net'.

    >>> model_key(parse_expression("ddp.module")) -> 'ddp'
    >>> model_key(parse_expression("nets[0]")) -> 'nets[0]'
    >>> model_key(parse_expression("nets[i]")) -> None
    """
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in MOVE_METHODS
    ):
        expr = expr.func.value
    key = value_key(expr)
    if key is None:
        return None
    while key.endswith(".module"):
        key = key[: -len(".module")]
    return key


# The name the batch-size and loader analyses knew it by.
BindingIndex = SemanticModel
