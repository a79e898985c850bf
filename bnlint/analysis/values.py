"""Value flow: which expressions an object key may hold, through rebindings, containers,
loops, wrappers and helpers.

`ctx.values` is where the model, mode and training analyses learn what a name holds; they
never track assignments themselves:

    >>> # model = Net(); model = model.to(device); model = DDP(model)
    >>> ctx.values.sources("model", scope)        # the rebindings are the same object
    [Net()]
    >>> # models = {"net": Net(), "ema": Net()}
    >>> ctx.values.sources("models['net']", scope)
    [Net()]
    >>> # for m in [Net(), Head()]: ...
    >>> ctx.values.sources("m", scope)
    [Net(), Head()]

Wrappers (`DDP(model)`, `nn.DataParallel`, `torch.compile`, `copy.deepcopy`) and the
methods that hand back the same module (`.to(device)`, `.cuda()`, `.eval()`) are seen
through by `unwrap`; a helper's return value (`model = build()`) is a source like any
call, and what it builds is `contents`' question. Attributes (`self.model`,
`trainer.net`) are keys like names: their sources are the assignments to that key in the
scope. Parameters are followed through the project's call sites by the model index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument_for
from bnlint.analysis.names import dotted_name
from bnlint.analysis.semantic.scopes import literal_key, model_key
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

Scope = cst.FunctionDef | cst.Module
_MAX_DEPTH = 6


def unwrap(expr: cst.BaseExpression, qualified: str | None = None) -> cst.BaseExpression:
    """The expression whose layers `expr` holds: `model.to(d).eval()` -> `model`.

    `qualified` is the qualified name of a call's function, when the caller resolved it:
    `DDP(model, device_ids=[0])` -> `model`, `torch.compile(net)` -> `net`.
    """
    while isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in torch_api.SAME_MODULE_METHODS:
            expr = func.value
            continue
        if (
            qualified is not None
            and (qualified in torch_api.SAME_LAYERS or qualified in torch_api.DEEPCOPY)
            and expr.args
            and expr.args[0].keyword is None
            and not expr.args[0].star
        ):
            expr = expr.args[0].value
            qualified = None
            continue
        break
    return expr


class Values:
    """Sources of object keys in one file, per scope."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._called: dict[int, frozenset[str]] = {}

    def called_in(self, node: cst.CSTNode) -> frozenset[str]:
        """Keys called as functions anywhere under `node`: `net(x)`, `net.forward(x)` -> 'net'."""
        found = self._called.get(id(node))
        if found is None:
            keys: set[str] = set()

            class _Collect(cst.CSTVisitor):
                def visit_Call(self, call: cst.Call) -> None:
                    func = call.func
                    if isinstance(func, cst.Attribute) and func.attr.value == "forward":
                        func = func.value
                    key = model_key(func)
                    if key is not None:
                        keys.add(key)

            visit_tree(node, _Collect())
            found = self._called[id(node)] = frozenset(keys)
        return found

    def passed_to(self, function: cst.FunctionDef, param: str) -> list[tuple[str, cst.Call]]:
        """What this file's calls of `function` pass as its parameter `param`: the argument's
        key and the call, for each call that passes a plain name or attribute there.

        >>> `def train_val(net, ...)` ... `train_val(model, loader)` -> [('model', <call>)]
        """
        params = [p.name.value for p in [*function.params.posonly_params, *function.params.params]]
        if param not in params:
            return []
        index = params.index(param) - (1 if params[:1] == ["self"] else 0)
        name = function.name.value
        found = []
        for call in self.ctx.semantic.calls:
            written = dotted_name(call.func)
            if written is None or written.rpartition(".")[2] != name:
                continue
            if "." in written and not written.startswith("self."):
                continue
            positional = [a for a in call.args if a.keyword is None and not a.star]
            given = next(
                (a.value for a in call.args if a.keyword is not None and a.keyword.value == param),
                positional[index].value if 0 <= index < len(positional) else None,
            )
            key = None if given is None else model_key(given)
            if key is not None:
                found.append((key, call))
        return found

    def _qualified(self, expr: cst.BaseExpression) -> str | None:
        return self.ctx.names.qualified_name(expr.func) if isinstance(expr, cst.Call) else None

    def same_object(self, value: cst.BaseExpression, key: str) -> bool:
        """Whether `key = value` rebinds `key` to the object (or the layers) it already holds.

        >>> same_object(parse("model.to(device)"), "model"), same_object(parse("DDP(model)"), ...)
        (True, True)
        """
        inner = value
        while True:
            unwrapped = unwrap(inner, self._qualified(inner))
            if unwrapped is inner:
                break
            inner = unwrapped
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name):
            # `model = reload_model(model, path)`: a project function that returns its argument.
            summary = self.ctx.project_index.function(inner.func.value, self.ctx.filename)
            given = None if summary is None else argument_for(inner, summary)
            if given is not None:
                return model_key(given) == key
        return inner is not value and model_key(inner) == key

    def sources(self, key: str, scope: Scope, depth: int = 0) -> list[cst.BaseExpression]:
        """The expressions whose object `key` may hold in `scope` (empty: not known).

        Only assignments of `scope` itself count (and, for a name a function neither binds
        nor takes, the module's); rebindings of `key` to its own object are left out.
        """
        if depth > _MAX_DEPTH:
            return []
        own = self.ctx.scope_facts(scope)
        values = own.assignments.get(key, [])
        if not values and isinstance(scope, cst.FunctionDef) and not key.startswith("self."):
            root = key.split("[")[0].split(".")[0]
            if root not in own.names or all(b.kind == "global" for b in own.names[root]):
                values = self.ctx.scope_facts(self.ctx.module).assignments.get(key, [])
        found = [value for value in values if not self.same_object(value, key)]
        if not found and key in own.loop_sources:
            for iterable in own.loop_sources[key]:
                found.extend(self.elements(iterable, scope, depth + 1))
        if not found and key.endswith("]"):
            found = self._element(key, scope, depth)
        return found

    def elements(
        self, iterable: cst.BaseExpression, scope: Scope, depth: int = 0
    ) -> list[cst.BaseExpression]:
        """What iterating `iterable` yields: `[a, b]` -> [a, b]; `d.values()` of a dict
        literal -> its values; a name bound to one of those -> the same."""
        if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute):
            if iterable.func.attr.value == "values" and not iterable.args:
                return [
                    v
                    for d in self._literals(iterable.func.value, scope, depth)
                    if isinstance(d, cst.Dict)
                    for v in _dict_values(d).values()
                ]
            return []
        found: list[cst.BaseExpression] = []
        for literal in self._literals(iterable, scope, depth):
            if isinstance(literal, cst.List | cst.Tuple | cst.Set):
                if any(isinstance(e, cst.StarredElement) for e in literal.elements):
                    return []
                found.extend(e.value for e in literal.elements)
            elif isinstance(literal, cst.Call) and _module_list(literal):
                found.extend(self.elements(literal.args[0].value, scope, depth + 1))
        return found

    def _literals(
        self, expr: cst.BaseExpression, scope: Scope, depth: int
    ) -> list[cst.BaseExpression]:
        """`expr` itself when it is a literal, else the literals its key holds."""
        if isinstance(expr, cst.List | cst.Tuple | cst.Set | cst.Dict) or (
            isinstance(expr, cst.Call) and _module_list(expr)
        ):
            return [expr]
        key = model_key(expr)
        if key is None:
            return []
        return self.sources(key, scope, depth + 1)

    def _element(self, key: str, scope: Scope, depth: int) -> list[cst.BaseExpression]:
        """`models['net']` -> the value under "net" in the dict `models` holds."""
        base, _, rest = key.rpartition("[")
        try:
            index = _parse_literal(rest[:-1])
        except ValueError:
            return []
        found: list[cst.BaseExpression] = []
        for literal in self._literals(cst.parse_expression(base), scope, depth):
            if isinstance(literal, cst.Call) and _module_list(literal):
                inner = literal.args[0].value
                literal = inner if isinstance(inner, cst.List | cst.Tuple | cst.Dict) else literal
            if isinstance(literal, cst.Dict) and isinstance(index, str):
                value = _dict_values(literal).get(index)
                if value is not None:
                    found.append(value)
            elif isinstance(literal, cst.List | cst.Tuple) and isinstance(index, int):
                elements = literal.elements
                if any(isinstance(e, cst.StarredElement) for e in elements):
                    continue
                if -len(elements) <= index < len(elements):
                    found.append(elements[index].value)
        return found


def _dict_values(literal: cst.Dict) -> dict[int | str, cst.BaseExpression]:
    values: dict[int | str, cst.BaseExpression] = {}
    for element in literal.elements:
        if isinstance(element, cst.DictElement):
            key = literal_key(element.key)
            if key is not None:
                values[key] = element.value
    return values


def _module_list(call: cst.Call) -> bool:
    """`nn.ModuleList([...])` / `nn.ModuleDict({...})` by its last name, with one argument."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    return name in ("ModuleList", "ModuleDict") and len(call.args) == 1


def _parse_literal(text: str) -> int | str:
    """The inverse of `repr` for the int and str keys `value_key` writes."""
    if text.lstrip("-").isdigit():
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    raise ValueError(text)
