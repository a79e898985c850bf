"""The order of a local list of layers built by appends, as `nn.Sequential(*layers)` sees it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst

from bnlint.analysis.names import dotted_name, last_name
from bnlint.analysis.structure.elements import GAP, Element, Item, Listed
from bnlint.analysis.structure.scopes import Frame
from bnlint.analysis.walk import walk

ListItems = Callable[[cst.BaseExpression], Listed | None]
Resolve = Callable[[cst.BaseExpression], Element]

_ADDERS = frozenset({"append", "extend"})
# `seq.add_module("conv", layer)` on an `nn.Sequential()` built empty.
_MODULE_ADDERS = frozenset({"add_module", "append"})


class _Unknown(Exception):
    """The list is used in a way that may reorder or replace its items."""


def list_sequence(
    frame: Frame, name: str, list_items: ListItems, resolve: Resolve, modules: bool = False
) -> Listed | None:
    """Items of the list `name` in the order a function builds it, or None when unsure.

    >>> `layers = [conv(3, 8)]; for c in cfg: layers += [nn.Conv2d(8, c, 3), nn.BatchNorm2d(c)]`
    >>> -> items [conv(3, 8), GAP], fragments [(Conv2d, BatchNorm2d)]
    >>> `layers = [nn.Linear(i, o)]; if bn: layers.append(nn.BatchNorm1d(o))`
    >>> -> items [Linear, GAP], conditional [(Linear, BatchNorm1d)]
    Appends in a conditional or a loop become a GAP in the order, and their own runs
    become fragments; the first and last item a branch adds are adjacent to what comes
    before and after it when the branch runs (`conditional`). Any other use of the list
    (insert, pop, index assignment, passing it to a function) makes the answer None.
    With `modules`, `name` is an `nn.Sequential()` (or `self` in a Sequential subclass)
    filled by `add_module(key, layer)` and `append(layer)`; `name` may be dotted
    (`self.features`).
    """
    if not isinstance(frame.node, cst.FunctionDef):
        return None
    if not isinstance(frame.node.body, cst.IndentedBlock):
        return None
    builder = _Builder(name, list_items, resolve, modules)
    try:
        items = builder.block(frame.node.body.body)
        if name != "self" and builder.uses != _count_names(frame.node.body, name):
            return None
    except _Unknown:
        return None
    return Listed(items, builder.fragments, builder.conditional)


class _Builder:
    def __init__(self, name: str, list_items: ListItems, resolve: Resolve, modules: bool) -> None:
        self.name = name
        self.list_items = list_items
        self.resolve = resolve
        self.modules = modules
        self.fragments: list[tuple[Item, ...]] = []
        self.conditional: list[tuple[Item, Item]] = []
        # The pending branch tails when the last `block` call ended on a conditional append.
        self.final_tails: list[Item] = []
        # Occurrences of the name accounted for by a known pattern.
        self.uses = 0
        self.initialised = False

    def block(self, statements: Sequence[cst.BaseStatement]) -> list[Item]:
        items: list[Item] = []
        # Last items of a branch that just ran: adjacent to the next item added, if any.
        tails: list[Item] = []
        for statement in statements:
            added: list[Item] = []
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    added.extend(self.small(small))
            elif isinstance(statement, cst.With) and isinstance(statement.body, cst.IndentedBlock):
                added = self.block(statement.body.body)
            elif isinstance(statement, cst.FunctionDef | cst.ClassDef):
                continue
            else:
                before = self.uses
                previous = items[-1] if items else None
                branch_tails: list[Item] = []
                branches = _blocks(statement)
                for inner in branches:
                    run = self.block(inner)
                    ends = [*([run[-1]] if run else []), *self.final_tails]
                    if len(run) > 1:
                        self.fragments.append(tuple(run))
                    if isinstance(statement, cst.If) and run:
                        if previous is not None:
                            self.conditional.append((previous, run[0]))
                        branch_tails.extend(ends)
                    elif isinstance(statement, cst.For | cst.While) and run:
                        # One iteration's last item meets the next iteration's first.
                        self.conditional.extend((end, run[0]) for end in ends)
                if self.uses != before:
                    if isinstance(statement, cst.If) and not _has_else(statement):
                        # When no branch runs, what came before meets what comes next.
                        branch_tails.extend([previous] if previous is not None else [])
                    items.append(GAP)
                    tails = branch_tails
                continue
            if added:
                for tail in tails:
                    self.conditional.append((tail, added[0]))
                tails = []
                items.extend(added)
        self.final_tails = tails
        return items

    def small(self, node: cst.BaseSmallStatement) -> list[Item]:
        name = self.name
        if isinstance(node, cst.Assign) and _is_name(node.targets[0].target, name):
            if self.initialised or len(node.targets) != 1:
                raise _Unknown
            self.initialised = True
            self.uses += 1
            # An `nn.Sequential()` filled by add_module starts empty.
            return [] if self.modules else self._chunk(node.value)
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
                self.modules
                and isinstance(func, cst.Attribute)
                and _is_name(func.value, name)
                and func.attr.value in _MODULE_ADDERS
                and len(call.args) == (2 if func.attr.value == "add_module" else 1)
                and not any(arg.star for arg in call.args)
            ):
                self.uses += 1
                return [self.resolve(call.args[-1].value)]
            if (
                not self.modules
                and isinstance(func, cst.Attribute)
                and _is_name(func.value, name)
                and func.attr.value in _ADDERS
                and len(call.args) == 1
                and not call.args[0].star
            ):
                self.uses += 1
                if func.attr.value == "append":
                    return [self.resolve(call.args[0].value)]
                return self._chunk(call.args[0].value)
        if (
            isinstance(node, cst.Return) and node.value is not None and _is_name(node.value, name)
        ) or (self.modules and isinstance(node, cst.Assign) and _is_name(node.value, name)):
            # The list or filled Sequential handed out (returned, or stored on `self`): its
            # order is already fixed.
            self.uses += 1
            return []
        self.uses += _star_uses(node, name)
        return []

    def _chunk(self, value: cst.BaseExpression) -> list[Item]:
        listed = self.list_items(value)
        if listed is None:
            return [GAP]
        self.fragments.extend(listed.fragments)
        self.conditional.extend(listed.conditional)
        return listed.items


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


def _has_else(statement: cst.If) -> bool:
    orelse = statement.orelse
    while isinstance(orelse, cst.If):
        orelse = orelse.orelse
    return isinstance(orelse, cst.Else)


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    """`node` is the list's name as written: `layers`, or dotted (`self.features`)."""
    if isinstance(node, cst.Name):
        return node.value == name
    return "." in name and dotted_name(node) == name


def _star_uses(node: cst.CSTNode, name: str) -> int:
    """`*name` arguments, `len(name)` and `ModuleList(name)`: reads that keep the list's
    order (a ModuleList copies the list; which calls are ModuleList is for the resolver, that
    only resolves this list for one)."""
    count = 0

    def enter(current: cst.CSTNode) -> bool:
        nonlocal count
        # Type tests, not isinstance(): this runs on every node of the body (see
        # `exact_kinds`).
        if (type(current) is cst.Arg and current.star == "*" and _is_name(current.value, name)) or (
            type(current) is cst.Call
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
        # Type tests, not isinstance(): this runs on every node of the body.
        if "." in name and type(node) is cst.Attribute and dotted_name(node) == name:
            count += 1
            return False
        if type(node) is cst.Name and node.value == name:
            count += 1
        elif type(node) is cst.Attribute:
            # `obj.layers` is another object's attribute, not the local list.
            walk(node.value, enter)
            return False
        elif type(node) is cst.Arg:
            # `f(layers=...)`: the keyword is not a use of the local list.
            walk(node.value, enter)
            return False
        return type(node) is not cst.FunctionDef

    walk(body, enter)
    return count
