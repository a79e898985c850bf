"""The order of a local list of layers built by appends, as `nn.Sequential(*layers)` sees it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from bnlint.analysis.names import last_name
from bnlint.analysis.structure.elements import GAP, Element, Item
from bnlint.analysis.structure.scopes import Frame
from bnlint.analysis.walk import walk

ListItems = Callable[[cst.BaseExpression], tuple[list[Item], list[tuple[Item, ...]]] | None]
Resolve = Callable[[cst.BaseExpression], Element]

_ADDERS = frozenset({"append", "extend"})


class _Unknown(Exception):
    """The list is used in a way that may reorder or replace its items."""


def list_sequence(
    frame: Frame, name: str, list_items: ListItems, resolve: Resolve
) -> tuple[list[Item], list[tuple[Item, ...]]] | None:
    """Items of the list `name` in the order a function builds it, or None when unsure.

    >>> `layers = [conv(3, 8)]; for c in cfg: layers += [nn.Conv2d(8, c, 3), nn.BatchNorm2d(c)]`
    >>> -> items [conv(3, 8), GAP], fragments [(Conv2d, BatchNorm2d)]
    Appends in a conditional or a loop become a GAP in the order, and their own runs
    become fragments; any other use of the list (insert, pop, index assignment, passing
    it to a function) makes the answer None.
    """
    if not isinstance(frame.node, cst.FunctionDef):
        return None
    if not isinstance(frame.node.body, cst.IndentedBlock):
        return None
    builder = _Builder(name, list_items, resolve)
    try:
        items = builder.block(frame.node.body.body)
        if builder.uses != _count_names(frame.node.body, name):
            return None
    except _Unknown:
        return None
    return items, builder.fragments


class _Builder:
    def __init__(self, name: str, list_items: ListItems, resolve: Resolve) -> None:
        self.name = name
        self.list_items = list_items
        self.resolve = resolve
        self.fragments: list[tuple[Item, ...]] = []
        # Occurrences of the name accounted for by a known pattern.
        self.uses = 0
        self.initialised = False

    def block(self, statements: Sequence[cst.BaseStatement]) -> list[Item]:
        items: list[Item] = []
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    items.extend(self.small(small))
            elif isinstance(statement, cst.With) and isinstance(statement.body, cst.IndentedBlock):
                items.extend(self.block(statement.body.body))
            elif isinstance(statement, cst.FunctionDef | cst.ClassDef):
                continue
            else:
                before = self.uses
                for inner in _blocks(statement):
                    run = self.block(inner)
                    if len(run) > 1:
                        self.fragments.append(tuple(run))
                if self.uses != before:
                    items.append(GAP)
        return items

    def small(self, node: cst.BaseSmallStatement) -> list[Item]:
        name = self.name
        if isinstance(node, cst.Assign) and _is_name(node.targets[0].target, name):
            if self.initialised or len(node.targets) != 1:
                raise _Unknown
            self.initialised = True
            self.uses += 1
            return self._chunk(node.value)
        if isinstance(node, cst.AnnAssign) and _is_name(node.target, name) and node.value:
            if self.initialised:
                raise _Unknown
            self.initialised = True
            self.uses += 1
            return self._chunk(node.value)
        if (
            isinstance(node, cst.AugAssign)
            and _is_name(node.target, name)
            and isinstance(node.operator, cst.AddAssign)
        ):
            self.uses += 1
            return self._chunk(node.value)
        if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            call = node.value
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and _is_name(func.value, name)
                and func.attr.value in _ADDERS
                and len(call.args) == 1
                and not call.args[0].star
            ):
                self.uses += 1
                if func.attr.value == "append":
                    return [self.resolve(call.args[0].value)]
                return self._chunk(call.args[0].value)
        self.uses += _star_uses(node, name)
        return []

    def _chunk(self, value: cst.BaseExpression) -> list[Item]:
        listed = self.list_items(value)
        if listed is None:
            return [GAP]
        items, fragments = listed
        self.fragments.extend(fragments)
        return items


def _blocks(statement: cst.BaseStatement) -> list[list[cst.BaseStatement]]:
    """The statement lists inside a compound statement (each branch or body)."""
    found: list[list[cst.BaseStatement]] = []

    def add(suite: cst.BaseSuite | None) -> None:
        if isinstance(suite, cst.IndentedBlock):
            found.append(list(suite.body))

    if isinstance(statement, cst.If):
        add(statement.body)
        orelse = statement.orelse
        while isinstance(orelse, cst.If):
            add(orelse.body)
            orelse = orelse.orelse
        if isinstance(orelse, cst.Else):
            add(orelse.body)
    elif isinstance(statement, cst.For | cst.While):
        add(statement.body)
        if statement.orelse is not None:
            add(statement.orelse.body)
    elif isinstance(statement, cst.Try):
        add(statement.body)
        for handler in statement.handlers:
            add(handler.body)
        if statement.orelse is not None:
            add(statement.orelse.body)
        if statement.finalbody is not None:
            add(statement.finalbody.body)
    elif isinstance(statement, cst.Match):
        for case in statement.cases:
            add(case.body)
    return found


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _star_uses(node: cst.CSTNode, name: str) -> int:
    """`*name` arguments, `len(name)` and `ModuleList(name)`: reads that keep the list's
    order (a ModuleList copies the list; which calls are ModuleList is for the resolver, that
    only resolves this list for one)."""
    count = 0

    def enter(current: cst.CSTNode) -> bool:
        nonlocal count
        if (
            isinstance(current, cst.Arg) and current.star == "*" and _is_name(current.value, name)
        ) or (
            isinstance(current, cst.Call)
            and (
                (isinstance(current.func, cst.Name) and current.func.value == "len")
                or last_name(current.func) == "ModuleList"
            )
            and len(current.args) == 1
            and _is_name(current.args[0].value, name)
        ):
            count += 1
        return True

    walk(node, enter)
    return count


def _count_names(body: cst.BaseSuite, name: str) -> int:
    count = 0

    def enter(node: cst.CSTNode) -> bool:
        nonlocal count
        if isinstance(node, cst.Name) and node.value == name:
            count += 1
        elif isinstance(node, cst.Attribute):
            # `obj.layers` is another object's attribute, not the local list.
            walk(node.value, enter)
            return False
        elif isinstance(node, cst.Arg):
            # `f(layers=...)`: the keyword is not a use of the local list.
            walk(node.value, enter)
            return False
        return not isinstance(node, cst.FunctionDef)

    walk(body, enter)
    return count
