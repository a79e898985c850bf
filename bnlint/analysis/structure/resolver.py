"""From an expression to the module it builds: constructors, Sequentials, helpers, factories."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from bnlint.analysis.calls import argument
from bnlint.analysis.names import NameResolver
from bnlint.analysis.structure.aliases import mirrored_class
from bnlint.analysis.structure.elements import GAP, OPAQUE, Block, Element, Item, Listed
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
        aliases: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.names = names
        self.frames = frames
        self.module_frame = module_frame
        self.functions = functions
        # Same-file nn.Sequential subclasses -> their __init__.
        self.sequential_classes = sequential_classes
        # Module-level names bound (maybe by a condition or try/except) to layer classes.
        self.aliases = aliases or {}

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
        if isinstance(node, cst.IfExp):
            # `nn.Dropout(p) if p > 0 else None`: the layer, wherever it is applied at all.
            for side, other in ((node.body, node.orelse), (node.orelse, node.body)):
                if isinstance(other, cst.Name) and other.value == "None":
                    return self.resolve(side, scope, attributes, direct, depth + 1)
            return OPAQUE
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
        filled: str | None = None,
    ) -> Block:
        """The block an `nn.Sequential(...)` call builds (or a Sequential subclass's super call).

        `filled` names what an empty `nn.Sequential()` is bound to (`seq`, `self.features`,
        `self` in a subclass) when `add_module` calls fill it in the same function.
        """
        items: list[Item] = []
        fragments: list[tuple[Item, ...]] = []
        conditional: list[tuple[Item, Item]] = []
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
                items.extend(sequence.items)
                fragments.extend(sequence.fragments)
                conditional.extend(sequence.conditional)
            elif arg.star:
                items.append(GAP)
            else:
                items.append(self.resolve(arg.value, scope, attributes, direct, depth))
        if not args and filled is not None and not scope.substitutions:
            added = list_sequence(
                scope.frame,
                filled,
                lambda expr: self._list_items(expr, scope, attributes, direct, depth),
                lambda expr: self.resolve(expr, scope, attributes, direct, depth),
                modules=True,
            )
            if added is not None:
                return Block(
                    call, tuple(added.items), tuple(added.fragments), tuple(added.conditional)
                )
        return Block(call, tuple(items), tuple(fragments), tuple(conditional))

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
        return Block(
            call, tuple(sequence.items), tuple(sequence.fragments), tuple(sequence.conditional)
        )

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
    ) -> Listed | None:
        """Items of a list expression: a literal, `a + b`, a local list built by appends, a
        module-level list, or the list a same-file helper returns (`*block(64, 128)`)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, cst.List | cst.Tuple):
            items: list[Item] = []
            for element in node.elements:
                if isinstance(element, cst.StarredElement):
                    listed = self._list_items(element.value, scope, attributes, direct, depth)
                    if listed is None:
                        items.append(GAP)
                        continue
                    return self._splice(node, scope, attributes, direct, depth)
                items.append(self.resolve(element.value, scope, attributes, direct, depth))
            return Listed(items)
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left = self._list_items(node.left, scope, attributes, direct, depth)
            right = self._list_items(node.right, scope, attributes, direct, depth)
            if left is None or right is None:
                return None
            return left + right
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            function = self._function(node.func.value, scope)
            if function is not None:
                return self._helper_list(function, node, scope, depth)
            return None
        if not isinstance(node, cst.Name) or node.value in scope.substitutions:
            return None
        if scope.frame.binds(node.value) and isinstance(scope.frame.node, cst.FunctionDef):
            if scope.frame.bindings.get(node.value) is None:
                return None
            return list_sequence(
                scope.frame,
                node.value,
                lambda expr: self._list_items(expr, scope, attributes, direct, depth),
                lambda expr: self.resolve(expr, scope, attributes, direct, depth),
            )
        found = scope.lookup(node.value)
        if found is None or not isinstance(found[0], cst.List | cst.Tuple):
            return None
        # A list bound once at module level (or in an enclosing function) and only read.
        value, outer = found
        return self._list_items(value, outer, None, direct, depth + 1)

    def _splice(
        self,
        node: cst.List | cst.Tuple,
        scope: Scope,
        attributes: AttributeLookup | None,
        direct: bool,
        depth: int,
    ) -> Listed:
        """`[*block(3, 8), nn.Conv2d(8, 8, 3)]`: spliced lists joined with the other items."""
        joined = Listed([])
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                listed = self._list_items(element.value, scope, attributes, direct, depth)
                joined = joined + (listed if listed is not None else Listed([GAP]))
            else:
                joined = joined + Listed(
                    [self.resolve(element.value, scope, attributes, direct, depth)]
                )
        return joined

    def _function(self, name: str, scope: Scope) -> cst.FunctionDef | None:
        """The function `name` calls where `scope` reads it: nested in an enclosing function
        (a helper defined in `__init__`) or at module level, when defined once."""
        frame: Frame | None = scope.frame
        while frame is not None:
            if frame.binds(name):
                nested = [
                    f
                    for f in self.frames
                    if isinstance(f, cst.FunctionDef)
                    and f.name.value == name
                    and self.frames[f].parent is frame
                ]
                if len(nested) == 1 and frame.bindings.get(name) == [None]:
                    return nested[0]
                if frame is self.module_frame:
                    return self.functions.get(name)
                return None
            frame = frame.parent
        return None

    def _helper_list(
        self, function: cst.FunctionDef, call: cst.Call, caller: Scope, depth: int
    ) -> Listed | None:
        """The list a helper returns, as seen from one call.

        Its items, read with the call's arguments, join the caller's sequence but are not
        direct (the helper builds them for every caller); the runs inside the helper's own
        list hold for every call, so they are kept as direct fragments.
        """
        value = _single_return(function)
        frame = self.frames.get(function)
        if value is None or frame is None:
            return None
        bound = self._bind(function, call, caller)
        if bound is None:
            return None
        seen = self._list_items(value, bound, None, False, depth + 1)
        own = self._list_items(value, Scope(frame), None, True, depth + 1)
        if seen is None:
            return None
        if own is None:
            return seen
        return Listed(
            seen.items,
            [*seen.fragments, tuple(own.items), *own.fragments],
            own.conditional,
        )

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
            qualified = mirrored_class(qualified)
            if qualified in SEQUENTIAL:
                return self.sequential(call, scope, attributes, direct, depth)
            if qualified in MODULE_LIST:
                return self._module_list(call, scope, attributes, direct, depth)
            spec = LAYER_SPECS.get(qualified)
            if spec is not None:
                return Layer(call, qualified, spec, scope, direct)
            return OPAQUE
        if isinstance(call.func, cst.Call):
            # `batch_norm_class(ddp)(hidden)`: a helper's returned class, built here.
            built = self._alias(call.func, scope, depth)
            if built is not None:
                return Layer(call, built, LAYER_SPECS[built], scope, direct)
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
            alias = self._alias(value, found[1], 0)
            if alias is not None:
                return Layer(call, alias, LAYER_SPECS[alias], scope, direct)
            return None
        if name in self.aliases and not any(
            frame.binds(name) for frame in _frames_up(scope.frame) if frame is not self.module_frame
        ):
            return self._alias_layer(call, self.aliases[name], scope, direct)
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

    def _alias_layer(
        self, call: cst.Call, classes: frozenset[str], scope: Scope, direct: bool
    ) -> Layer | None:
        known = sorted(mirrored_class(c) for c in classes)
        if not known or any(c not in LAYER_SPECS for c in known):
            return None
        if len({LAYER_SPECS[c].kind for c in known}) != 1:
            return None
        loose = [c for c in known if LAYER_SPECS[c].spatial is None]
        chosen = known[0] if len(set(known)) == 1 else (loose[0] if loose else None)
        return None if chosen is None else Layer(call, chosen, LAYER_SPECS[chosen], scope, direct)

    def _alias(self, value: cst.BaseExpression, scope: Scope, depth: int) -> str | None:
        """The layer class a name is bound to: `BN = nn.BatchNorm2d`, or a choice between two
        classes of one kind (`nn.SyncBatchNorm if ddp else nn.BatchNorm2d`), read as the one
        that checks the least (SyncBatchNorm accepts any rank); or the class a same-file
        helper returns (`Norm = batch_norm_class(ddp)`)."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(value, cst.Call):
            return self._returned_class(value, scope, depth)
        if isinstance(value, cst.IfExp):
            body = self._alias(value.body, scope, depth + 1)
            orelse = self._alias(value.orelse, scope, depth + 1)
            if body is None or orelse is None:
                return None
            if body == orelse:
                return body
            kinds = {LAYER_SPECS[body].kind, LAYER_SPECS[orelse].kind}
            if len(kinds) != 1:
                return None
            loose = [c for c in (body, orelse) if LAYER_SPECS[c].spatial is None]
            return loose[0] if loose else None
        qualified = self.names.qualified_name(value)
        if qualified is not None:
            qualified = mirrored_class(qualified)
            return qualified if qualified in LAYER_SPECS else None
        if isinstance(value, cst.Name):
            found = scope.lookup(value.value)
            if found is not None:
                return self._alias(found[0], found[1], depth + 1)
        return None

    def _returned_class(self, call: cst.Call, scope: Scope, depth: int) -> str | None:
        """The layer class a call of a same-file helper returns: one `return` whose value is
        a layer class (or a choice between two of one kind), whatever the arguments."""
        if not isinstance(call.func, cst.Name):
            return None
        name = call.func.value
        if scope.frame.binds(name) or name in scope.substitutions:
            return None  # a local name, not the module's helper
        function = self.functions.get(name)
        frame = self.frames.get(function) if function is not None else None
        if function is None or frame is None:
            return None
        value = _single_return(function)
        return None if value is None else self._alias(value, Scope(frame), depth + 1)

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
        value = _single_return(function)
        if value is None:
            return OPAQUE
        scope = self._bind(function, call, caller)
        if scope is None:
            return OPAQUE
        return self.resolve(value, scope, None, direct=False, depth=depth + 1)

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


def _frames_up(frame: Frame | None) -> list[Frame]:
    found: list[Frame] = []
    while frame is not None:
        found.append(frame)
        frame = frame.parent
    return found


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


def _single_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    """The value a helper returns when its body has one `return`, with a value (nested
    functions' returns not counted); None otherwise: what it builds is then not one thing."""
    returns = _returns(function)
    return returns[0].value if len(returns) == 1 else None


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
