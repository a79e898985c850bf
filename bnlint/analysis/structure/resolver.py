"""From an expression to the module it builds: constructors, Sequentials, helpers, factories."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from bnlint.analysis.calls import argument
from bnlint.analysis.names import NameResolver
from bnlint.analysis.structure.elements import GAP, OPAQUE, Block, Element, Item
from bnlint.analysis.structure.layers import (
    LAYER_SPECS,
    MODULE_LIST,
    ORDERED_DICT,
    PARTIAL,
    SEQUENTIAL,
    Layer,
)
from bnlint.analysis.structure.lists import list_sequence
from bnlint.analysis.structure.scopes import Frame, Scope
from bnlint.analysis.walk import walk

_MAX_DEPTH = 3

# Looks up `self.<name>` of the class being read, or None outside a class.
AttributeLookup = Callable[[str], Element | None]


class Resolver:
    """Resolves module expressions of one file.

    >>> resolve(`nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))`) -> Block of two layers
    >>> resolve(`conv_bn(3, 8)`) with a same-file helper -> its Block, not direct
    """

    def __init__(
        self,
        names: NameResolver,
        frames: dict[cst.CSTNode, Frame],
        module_frame: Frame,
        functions: dict[str, cst.FunctionDef],
        sequential_classes: dict[str, cst.FunctionDef],
    ) -> None:
        self.names = names
        self.frames = frames
        self.module_frame = module_frame
        self.functions = functions
        # Same-file nn.Sequential subclasses -> their __init__.
        self.sequential_classes = sequential_classes

    def resolve(
        self,
        node: cst.BaseExpression,
        scope: Scope,
        attributes: AttributeLookup | None = None,
        direct: bool = True,
        depth: int = 0,
    ) -> Element:
        if depth > _MAX_DEPTH:
            return OPAQUE
        if isinstance(node, cst.Call):
            return self._call(node, scope, attributes, direct, depth)
        if isinstance(node, cst.Name) and node.value != "self":
            found = scope.lookup(node.value)
            if found is not None:
                value, value_scope = found
                # A name bound to a constructor in a loop is still one module per binding.
                return self.resolve(value, value_scope, attributes, direct, depth + 1)
            return OPAQUE
        if (
            attributes is not None
            and isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
        ):
            return attributes(node.attr.value) or OPAQUE
        return OPAQUE

    def sequential(
        self,
        call: cst.Call,
        scope: Scope,
        attributes: AttributeLookup | None = None,
        direct: bool = True,
        depth: int = 0,
    ) -> Block:
        """The block an `nn.Sequential(...)` call builds (or a Sequential subclass's super call)."""
        items: list[Item] = []
        fragments: list[tuple[Item, ...]] = []
        args = [arg for arg in call.args if arg.keyword is None]
        if len(args) == 1 and not args[0].star and isinstance(args[0].value, cst.Call):
            inner = args[0].value
            if self.names.matches(inner.func, ORDERED_DICT):
                return Block(
                    call, tuple(self._ordered_dict(inner, scope, attributes, direct, depth))
                )
        for arg in args:
            if arg.star == "*":
                sequence = self._list_items(arg.value, scope, attributes, direct, depth)
                if sequence is None:
                    items.append(GAP)
                    continue
                listed, more = sequence
                items.extend(listed)
                fragments.extend(more)
            elif arg.star:
                items.append(GAP)
            else:
                items.append(self.resolve(arg.value, scope, attributes, direct, depth))
        return Block(call, tuple(items), tuple(fragments))

    def _module_list(
        self,
        call: cst.Call,
        scope: Scope,
        attributes: AttributeLookup | None,
        direct: bool,
        depth: int,
    ) -> Element:
        """`nn.ModuleList([...])`: its items in order, like a Sequential's (whether they are
        applied as a chain is for the data path to show)."""
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return OPAQUE
        sequence = self._list_items(call.args[0].value, scope, attributes, direct, depth)
        if sequence is None:
            return OPAQUE
        items, fragments = sequence
        return Block(call, tuple(items), tuple(fragments))

    def _ordered_dict(
        self,
        call: cst.Call,
        scope: Scope,
        attributes: AttributeLookup | None,
        direct: bool,
        depth: int,
    ) -> list[Item]:
        if (
            call.args
            and isinstance(call.args[0].value, cst.List | cst.Tuple)
            and not call.args[0].keyword
        ):
            items: list[Item] = []
            for element in call.args[0].value.elements:
                pair = element.value
                if (
                    isinstance(element, cst.Element)
                    and isinstance(pair, cst.Tuple)
                    and len(pair.elements) == 2
                ):
                    items.append(
                        self.resolve(pair.elements[1].value, scope, attributes, direct, depth)
                    )
                else:
                    items.append(GAP)
            return items
        if call.args and all(arg.keyword is not None for arg in call.args):
            return [self.resolve(arg.value, scope, attributes, direct, depth) for arg in call.args]
        return [GAP]

    def _list_items(
        self,
        node: cst.BaseExpression,
        scope: Scope,
        attributes: AttributeLookup | None,
        direct: bool,
        depth: int,
    ) -> tuple[list[Item], list[tuple[Item, ...]]] | None:
        """Items of a list expression: a literal, `a + b`, or a local list built by appends."""
        if isinstance(node, cst.List | cst.Tuple):
            items: list[Item] = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    items.append(GAP)
                else:
                    items.append(self.resolve(element.value, scope, attributes, direct, depth))
            return items, []
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self._list_items(node.left, scope, attributes, direct, depth)
            right = self._list_items(node.right, scope, attributes, direct, depth)
            if left is None or right is None:
                return None
            return left[0] + right[0], left[1] + right[1]
        if isinstance(node, cst.Name) and not scope.substitutions and scope.frame.binds(node.value):
            if scope.frame.bindings.get(node.value) is None:
                return None
            return list_sequence(
                scope.frame,
                node.value,
                lambda expr: self._list_items(expr, scope, attributes, direct, depth),
                lambda expr: self.resolve(expr, scope, attributes, direct, depth),
            )
        return None

    def _call(
        self,
        call: cst.Call,
        scope: Scope,
        attributes: AttributeLookup | None,
        direct: bool,
        depth: int,
    ) -> Element:
        qualified = self.names.qualified_name(call.func)
        if qualified is not None:
            if qualified in SEQUENTIAL:
                return self.sequential(call, scope, attributes, direct, depth)
            if qualified in MODULE_LIST:
                return self._module_list(call, scope, attributes, direct, depth)
            spec = LAYER_SPECS.get(qualified)
            if spec is not None:
                return Layer(call, qualified, spec, scope, direct)
            return OPAQUE
        if not isinstance(call.func, cst.Name):
            return OPAQUE
        name = call.func.value
        factory = self._factory(name, scope, call, direct)
        if factory is not None:
            return factory
        if scope.frame.binds(name) or name in scope.substitutions:
            return OPAQUE
        if name in self.functions:
            return self._helper(self.functions[name], call, scope, depth)
        if name in self.sequential_classes:
            return self._sequential_class(self.sequential_classes[name], call, scope, depth)
        return OPAQUE

    def _factory(self, name: str, scope: Scope, call: cst.Call, direct: bool) -> Layer | None:
        """`norm(c)` where `norm = partial(nn.BatchNorm2d, ...)` or a `norm_layer` parameter."""
        found = scope.lookup(name)
        if found is not None:
            value, _ = found
            if (
                isinstance(value, cst.Call)
                and self.names.matches(value.func, PARTIAL)
                and value.args
            ):
                target = value.args[0]
                qualified = self.names.qualified_name(target.value)
                if target.keyword or target.star or qualified not in LAYER_SPECS:
                    return None
                if any(arg.star for arg in value.args):
                    return None
                preset = {
                    arg.keyword.value: arg.value
                    for arg in value.args[1:]
                    if arg.keyword is not None
                }
                shift = sum(1 for arg in value.args[1:] if arg.keyword is None)
                return Layer(
                    call, qualified, LAYER_SPECS[qualified], scope, direct, preset, shift=shift
                )
            return None
        param = scope.frame.params.get(name)
        if param is None or scope.substitutions:
            return None
        bindings = scope.frame.bindings.get(name, [])
        candidates = [value for value in bindings if value is not None]
        if len(candidates) != len(bindings):
            return None
        default = param.default
        if default is not None and not (isinstance(default, cst.Name) and default.value == "None"):
            candidates.append(default)
        if not candidates:
            return None
        qualified_names = {self.names.qualified_name(c) for c in candidates}
        if len(qualified_names) != 1:
            return None
        qualified = next(iter(qualified_names))
        if qualified is None or qualified not in LAYER_SPECS:
            return None
        return Layer(call, qualified, LAYER_SPECS[qualified], scope, direct, factory=True)

    def _bind(self, function: cst.FunctionDef, call: cst.Call, caller: Scope) -> Scope | None:
        """The helper's scope with its parameters bound to the call's arguments."""
        frame = self.frames.get(function)
        if frame is None or any(arg.star for arg in call.args):
            return None
        params = function.params
        positional = [*params.posonly_params, *params.params]
        substitutions: dict[str, tuple[cst.BaseExpression, Scope]] = {}
        index = 0
        for arg in call.args:
            if arg.keyword is None:
                if index >= len(positional):
                    return None
                substitutions[positional[index].name.value] = (arg.value, caller)
                index += 1
            else:
                substitutions[arg.keyword.value] = (arg.value, caller)
        defaults = Scope(self.module_frame)
        for param in [*positional, *params.kwonly_params]:
            name = param.name.value
            if name not in substitutions and param.default is not None:
                substitutions[name] = (param.default, defaults)
        return Scope(frame, substitutions)

    def _helper(
        self, function: cst.FunctionDef, call: cst.Call, caller: Scope, depth: int
    ) -> Element:
        returns = _returns(function)
        if len(returns) != 1 or returns[0].value is None:
            return OPAQUE
        scope = self._bind(function, call, caller)
        if scope is None:
            return OPAQUE
        return self.resolve(returns[0].value, scope, None, direct=False, depth=depth + 1)

    def _sequential_class(
        self, init: cst.FunctionDef, call: cst.Call, caller: Scope, depth: int
    ) -> Element:
        scope = self._bind(init, call, caller)
        frame = self.frames.get(init)
        if scope is None or frame is None:
            return OPAQUE
        supers = [c for c in frame.calls if _is_super_init(c)]
        if len(supers) != 1:
            return OPAQUE
        return self.sequential(supers[0], scope, None, direct=False, depth=depth + 1)


def _is_super_init(call: cst.Call) -> bool:
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "__init__"
        and isinstance(func.value, cst.Call)
        and isinstance(func.value.func, cst.Name)
        and func.value.func.value == "super"
    )


def super_init_call(frame: Frame) -> cst.Call | None:
    supers = [c for c in frame.calls if _is_super_init(c)]
    return supers[0] if len(supers) == 1 else None


def _returns(function: cst.FunctionDef) -> list[cst.Return]:
    found: list[cst.Return] = []

    def enter(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Return):
            found.append(node)
        return not isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef)

    walk(function.body, enter)
    return found


def keyword_argument(call: cst.Call, name: str) -> cst.BaseExpression | None:
    found = argument(call, name)
    return None if found is None else found.value
