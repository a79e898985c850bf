"""The data path of a module method: which layer's output feeds which layer.

Values are tracked through `x = self.conv(x)`, nested calls `self.bn(self.conv(x))` and
functional `F.batch_norm` / `F.dropout`. A value read twice (a residual, `x.shape`), a
layer applied twice, an application inside a branch of what was computed outside it,
and anything reassigned in a branch or loop all make the path uncertain, and uncertain
links are simply not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.names import NameResolver
from bnlint.analysis.structure.elements import Block, Element
from bnlint.analysis.structure.layers import FUNCTIONAL_SPECS, Layer
from bnlint.analysis.structure.scopes import Scope
from bnlint.analysis.walk import children


@dataclass
class Application:
    """One call of a layer on a value: `self.bn(x)`, or a functional `F.batch_norm(x, ...)`."""

    node: cst.Call
    element: Element
    attribute: str | None
    input: Value | None
    block: int


@dataclass
class Value:
    producer: Application | None
    block: int
    uses: int = 0
    # What a value went through unchanged on its way here: `F.log_softmax(x)` passes the
    # class scores on (the name of the function), a tuple's first element is still `x`.
    through: str | None = None
    # `self.get_logits(x)`: the value another method of the class returns.
    delegate: str | None = None


# Functions that turn class scores into probabilities: what they return is still the
# prediction of the layer before them.
_OUTPUT_FUNCTIONS = frozenset(
    {
        "torch.nn.functional.log_softmax",
        "torch.nn.functional.softmax",
        "torch.log_softmax",
        "torch.softmax",
        "torch.sigmoid",
        "torch.nn.functional.sigmoid",
    }
)


@dataclass
class MethodFlow:
    """Applications in one method, the values they make, and what each `return` returns."""

    name: str
    applications: list[Application] = field(default_factory=list)
    returns: list[tuple[cst.Return, Value | None]] = field(default_factory=list)
    # How often each `self.<attribute>` is applied or referenced otherwise.
    references: dict[str, int] = field(default_factory=dict)


class _Walker:
    def __init__(
        self,
        flow: MethodFlow,
        names: NameResolver,
        attribute: Callable[[str], Element | None],
        scope: Scope,
        methods: frozenset[str] = frozenset(),
    ) -> None:
        self.methods = methods
        self.flow = flow
        self.names = names
        self.attribute = attribute
        self.scope = scope
        self.env: dict[str, Value] = {}
        self.block_id = 0
        self.blocks = 0

    # -- statements ---------------------------------------------------------------
    def statements(self, body: cst.BaseSuite) -> None:
        if isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self.small(small)
            return
        if not isinstance(body, cst.IndentedBlock):
            return
        for statement in body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self.small(small)
            else:
                self.compound(statement)

    def small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Assign):
            value = self.expression(node.value)
            for target in node.targets:
                self.assign(target.target, value if len(node.targets) == 1 else None)
        elif isinstance(node, cst.AnnAssign):
            value = self.expression(node.value) if node.value is not None else None
            self.assign(node.target, value)
        elif isinstance(node, cst.AugAssign):
            self.expression(node.target)
            self.expression(node.value)
            self.assign(node.target, None)
        elif isinstance(node, cst.Return):
            returned = node.value
            if isinstance(returned, cst.Tuple) and returned.elements:
                # `return logits, features`: the first element is what callers predict from.
                first = returned.elements[0]
                value = (
                    None if isinstance(first, cst.StarredElement) else self.expression(first.value)
                )
                for element in returned.elements[1:]:
                    self.expression(element.value)
            else:
                value = self.expression(returned) if returned is not None else None
            self.flow.returns.append((node, value))
        else:
            self.generic(node)

    def assign(self, target: cst.BaseExpression, value: Value | None) -> None:
        if isinstance(target, cst.Name):
            if value is None:
                self.env.pop(target.value, None)
            else:
                self.env[target.value] = value
            return
        if isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self.assign(element.value, None)
            return
        if isinstance(target, cst.StarredElement):
            self.assign(target.value, None)
            return
        # `self.x = ...`, `d[k] = ...`: the value escapes; the target's parts are reads.
        if value is not None:
            value.uses += 1
        self.generic(target)

    def compound(self, statement: cst.BaseStatement) -> None:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            self.generic(statement)
            return
        if isinstance(statement, cst.For) and self.chain(statement):
            return
        before = dict(self.env)
        outer = self.block_id
        for header in _headers(statement):
            self.expression(header)
        for target in _loop_targets(statement):
            self.assign(target, None)
        for suite in _suites(statement):
            if isinstance(statement, cst.With):
                self.statements(suite)
                continue
            self.blocks += 1
            self.block_id = self.blocks
            self.statements(suite)
            self.block_id = outer
        if isinstance(statement, cst.With):
            return
        # After a branch or loop a reassigned name may hold either value.
        for name, value in list(self.env.items()):
            if before.get(name) is not value:
                self.env.pop(name)
                if name in before:
                    before[name].uses += 1

    def chain(self, loop: cst.For) -> bool:
        """`for layer in self.layers: x = layer(x)`: a ModuleList applied as one chain, the
        same data path as a Sequential. Any other loop body is left to the generic walk."""
        target, iterated = loop.target, loop.iter
        if (
            loop.asynchronous is not None
            or loop.orelse is not None
            or not isinstance(target, cst.Name)
            or not isinstance(iterated, cst.Attribute)
            or not _is_self(iterated.value)
        ):
            return False
        assign = _only_statement(loop.body)
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and isinstance(assign.value, cst.Call)
            and isinstance(assign.value.func, cst.Name)
            and assign.value.func.value == target.value
            and len(assign.value.args) == 1
            and assign.value.args[0].keyword is None
            and not assign.value.args[0].star
            and isinstance(assign.value.args[0].value, cst.Name)
            and assign.value.args[0].value.value == assign.targets[0].target.value
        ):
            return False
        element = self.attribute(iterated.attr.value)
        if not isinstance(element, Block):
            return False
        self.reference(iterated.attr.value)
        source = self.operand(assign.value.args[0].value)
        result = self.apply(assign.value, element, iterated.attr.value, source)
        self.env[assign.targets[0].target.value] = result
        return True

    # -- expressions --------------------------------------------------------------
    def expression(self, node: cst.BaseExpression | None) -> Value | None:
        if node is None:
            return None
        if isinstance(node, cst.Name):
            value = self.env.get(node.value)
            if value is not None:
                value.uses += 1
            return value
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Attribute) and _is_self(node.value):
            self.reference(node.attr.value)
            return None
        self.generic(node)
        return None

    def operand(self, node: cst.BaseExpression) -> Value | None:
        """The value a layer is applied to; a nested call's result is used right here."""
        value = self.expression(node)
        if value is not None and not isinstance(node, cst.Name):
            value.uses += 1
        return value

    def generic(self, node: cst.CSTNode) -> None:
        for child in children(node):
            if isinstance(child, cst.BaseExpression):
                self.expression(child)
            else:
                self.generic(child)

    def reference(self, attribute: str) -> None:
        references = self.flow.references
        references[attribute] = references.get(attribute, 0) + 1

    def call(self, node: cst.Call) -> Value | None:
        func = node.func
        single = len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star
        if (
            isinstance(func, cst.Attribute)
            and _is_self(func.value)
            and func.attr.value in self.methods
            and self.attribute(func.attr.value) is None
        ):
            for arg in node.args:
                self.expression(arg.value)
            return Value(None, self.block_id, delegate=func.attr.value)
        if isinstance(func, cst.Attribute) and _is_self(func.value):
            attribute = func.attr.value
            self.reference(attribute)
            element = self.attribute(attribute)
            if (
                isinstance(element, Layer)
                and element.spec.extra_inputs
                and node.args
                and node.args[0].keyword is None
                and not node.args[0].star
            ):
                # `self.conv(x, edge_index)`: the features go in first, the graph after.
                source = self.operand(node.args[0].value)
                for arg in node.args[1:]:
                    self.expression(arg.value)
                return self.apply(node, element, attribute, source)
            if element is None or not single:
                for arg in node.args:
                    self.expression(arg.value)
                return None
            return self.apply(node, element, attribute, self.operand(node.args[0].value))
        qualified = self.names.qualified_name(func)
        if qualified in _OUTPUT_FUNCTIONS and node.args and not node.args[0].keyword:
            passed = self.expression(node.args[0].value)
            for arg in node.args[1:]:
                self.expression(arg.value)
            if passed is not None:
                passed.through = qualified.rpartition(".")[2] if qualified else None
            return passed
        spec = FUNCTIONAL_SPECS.get(qualified or "")
        if qualified is not None and spec is not None and node.args and not node.args[0].keyword:
            source = self.operand(node.args[0].value)
            for arg in node.args[1:]:
                self.expression(arg.value)
            layer = Layer(node, qualified, spec, self.scope)
            return self.apply(node, layer, None, source)
        self.expression(func)
        for arg in node.args:
            self.expression(arg.value)
        return None

    def apply(
        self, node: cst.Call, element: Element, attribute: str | None, source: Value | None
    ) -> Value:
        application = Application(node, element, attribute, source, self.block_id)
        self.flow.applications.append(application)
        return Value(application, self.block_id)


def _only_statement(body: cst.BaseSuite) -> cst.BaseSmallStatement | None:
    """The one small statement a suite holds, or None."""
    if isinstance(body, cst.IndentedBlock):
        if len(body.body) != 1 or not isinstance(body.body[0], cst.SimpleStatementLine):
            return None
        smalls = body.body[0].body
    elif isinstance(body, cst.SimpleStatementSuite):
        smalls = body.body
    else:
        return None
    return smalls[0] if len(smalls) == 1 else None


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


def _headers(statement: cst.BaseStatement) -> list[cst.BaseExpression]:
    if isinstance(statement, cst.If | cst.While):
        found = [statement.test]
        orelse = statement.orelse if isinstance(statement, cst.If) else None
        while isinstance(orelse, cst.If):
            found.append(orelse.test)
            orelse = orelse.orelse
        return found
    if isinstance(statement, cst.For):
        return [statement.iter]
    if isinstance(statement, cst.With):
        return [item.item for item in statement.items]
    if isinstance(statement, cst.Match):
        return [statement.subject]
    return []


def _loop_targets(statement: cst.BaseStatement) -> list[cst.BaseExpression]:
    if isinstance(statement, cst.For):
        return [statement.target]
    if isinstance(statement, cst.With):
        return [item.asname.name for item in statement.items if item.asname is not None]
    return []


def _suites(statement: cst.BaseStatement) -> list[cst.BaseSuite]:
    suites: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        suites.append(statement.body)
        orelse = statement.orelse
        while isinstance(orelse, cst.If):
            suites.append(orelse.body)
            orelse = orelse.orelse
        if isinstance(orelse, cst.Else):
            suites.append(orelse.body)
    elif isinstance(statement, cst.For | cst.While):
        suites.append(statement.body)
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
    elif isinstance(statement, cst.With):
        suites.append(statement.body)
    elif isinstance(statement, cst.Try | cst.TryStar):
        suites.append(statement.body)
        suites.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            suites.append(statement.orelse.body)
        if statement.finalbody is not None:
            suites.append(statement.finalbody.body)
    elif isinstance(statement, cst.Match):
        suites.extend(case.body for case in statement.cases)
    return suites


def method_flow(
    function: cst.FunctionDef,
    names: NameResolver,
    attribute: Callable[[str], Element | None],
    scope: Scope,
    methods: frozenset[str] = frozenset(),
) -> MethodFlow:
    """The applications and returns of one method.

    >>> `def forward(self, x): x = self.conv(x); return self.bn(x)`
    >>> -> applications conv (input: the argument) and bn (input: conv's value, used once)
    """
    flow = MethodFlow(function.name.value)
    walker = _Walker(flow, names, attribute, scope, methods)
    walker.statements(function.body)
    return flow
