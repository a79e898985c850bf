"""Fast read-only walks over libcst trees.

libcst's own `node.visit(visitor)` rebuilds every node it passes (and calls an attribute
hook per field), which costs about ten times the parse. The analyses only read the tree,
so they walk the dataclass fields that can hold code, in source order, and skip the
whitespace and punctuation fields.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
import re
from collections.abc import Callable

import libcst as cst

# Fields that hold only whitespace, comments or punctuation tokens: never code.
_SKIPPED = re.compile(
    r"whitespace|^lpar$|^rpar$|^comma$|^semicolon$|^colon$|leading_lines|lines_after_decorators"
    r"|^header$|^footer$|^indent$|^lbrace$|^rbrace$|^lbracket$|^rbracket$|^dot$|^equal$"
    r"|^asynchronous$|^newline$|^trailing_whitespace$|^encoding$|^default_indent$"
    r"|^default_newline$|^has_trailing_newline$"
)
_SELF_FIELD = re.compile(r"self\.(\w+)")
_FIELDS: dict[type, tuple[str, ...]] = {}


def _source_order(kind: type) -> list[str]:
    """Field names in the order libcst itself visits them (that is, source order).

    A dataclass declares some fields out of source order (`FunctionDef.decorators` after
    `body`, `IfExp.test` before `body`); libcst's `_visit_and_replace_children` names
    them in the order they appear in the code, so that order is read from it.
    """
    declared = [field.name for field in dataclasses.fields(kind)]
    method = getattr(kind, "_visit_and_replace_children", None)
    try:
        text = inspect.getsource(method) if method is not None else ""
    except (OSError, TypeError):
        text = ""
    ordered: list[str] = []
    for match in _SELF_FIELD.finditer(text):
        name = match.group(1)
        if name in declared and name not in ordered:
            ordered.append(name)
    return ordered + [name for name in declared if name not in ordered]


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold code, in source order."""
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(name for name in _source_order(kind) if not _SKIPPED.search(name))
        _FIELDS[kind] = names
    return names


def _node_type(kind: type) -> bool:
    # isinstance() against libcst's abstract base costs an ABC check per call; the answer
    # per concrete type is cached instead.
    answer = _IS_NODE.get(kind)
    if answer is None:
        answer = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return answer


_IS_NODE: dict[type, bool] = {tuple: False, list: False, str: False, type(None): False}
# Node type -> a function returning the values of its code fields as a tuple (one C call
# instead of a getattr per field: `children` is the hottest function of a lint).
_READERS: dict[type, Callable[[cst.CSTNode], tuple[object, ...]]] = {}


def _reader(kind: type) -> Callable[[cst.CSTNode], tuple[object, ...]]:
    names = child_fields(kind)
    if not names:
        reader: Callable[[cst.CSTNode], tuple[object, ...]] = lambda node: ()  # noqa: E731
    elif len(names) == 1:
        get = operator.attrgetter(names[0])
        reader = lambda node: (get(node),)  # noqa: E731
    else:
        reader = operator.attrgetter(*names)
    _READERS[kind] = reader
    return reader


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes that can hold code, in source order (a new list).

    >>> children(parse_expression("f(x)")) -> [Name('f'), Arg(Name('x'))]
    """
    kind = type(node)
    reader = _READERS.get(kind) or _reader(kind)
    is_node = _IS_NODE.get
    found: list[cst.CSTNode] = []
    for value in reader(node):
        value_kind = type(value)
        if value_kind is tuple or value_kind is list:
            for item in value:  # type: ignore[attr-defined]
                item_kind = type(item)
                flag = is_node(item_kind)
                if flag or (flag is None and _node_type(item_kind)):
                    found.append(item)
        else:
            flag = is_node(value_kind)
            if flag or (flag is None and _node_type(value_kind)):
                found.append(value)  # type: ignore[arg-type]
    return found


def exact_kinds(*kinds: type) -> frozenset[type]:
    """Concrete node types, for a `type(node) in kinds` test in a hot loop.

    An isinstance() that fails on a libcst type runs an ABC check (about eight times a set
    lookup), and the loops over a node's ancestors fail on nearly every node. For a type
    with no subclasses the two tests agree, so that is checked here.
    """
    for kind in kinds:
        if kind.__subclasses__():
            raise TypeError(f"{kind.__name__} has subclasses: test it with isinstance()")
    return frozenset(kinds)


class Preorder:
    """A tree flattened once, in source order, so that every later walk of it is a slice.

    `nodes[i]`'s parent is `nodes[parents[i]]` (-1 for the root) and its subtree is
    `nodes[i:ends[i]]`. A file's rules, its semantic model and its parent questions all
    read this one list: a walk through `children` costs thousands of instructions a node,
    a step along a list a few hundred.
    """

    def __init__(self, root: cst.CSTNode) -> None:
        nodes: list[cst.CSTNode] = []
        parents: list[int] = []
        stack = [root]
        owners = [-1]
        pop, pop_owner = stack.pop, owners.pop
        append, append_parent = nodes.append, parents.append
        while stack:
            node = pop()
            parent = pop_owner()
            index = len(nodes)
            append(node)
            append_parent(parent)
            found = children(node)
            if found:
                found.reverse()
                stack.extend(found)
                owners.extend([index] * len(found))
        # In pre-order a subtree ends where its last child's does.
        ends = list(range(1, len(nodes) + 1))
        for index in range(len(nodes) - 1, 0, -1):
            parent = parents[index]
            if ends[index] > ends[parent]:
                ends[parent] = ends[index]
        self.nodes = nodes
        self.parents = parents
        self.ends = ends
        self._positions: dict[int, int] | None = None

    def position(self, node: cst.CSTNode) -> int | None:
        """Where `node` is in `nodes` (None for a node of another tree)."""
        if self._positions is None:
            self._positions = {id(n): i for i, n in enumerate(self.nodes)}
        found = self._positions.get(id(node))
        return found if found is not None and self.nodes[found] is node else None

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """`node`'s parent (None for the root, or a node of another tree)."""
        index = self.position(node)
        if index is None or self.parents[index] < 0:
            return None
        return self.nodes[self.parents[index]]

    def chain(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """`node` and its ancestors up to the root, innermost first ([] for a node of
        another tree)."""
        index = self.position(node)
        if index is None:
            return []
        nodes, parents = self.nodes, self.parents
        found = []
        while index >= 0:
            found.append(nodes[index])
            index = parents[index]
        return found

    def subtree(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """`node` and every node under it, parents first ([] for a node of another tree)."""
        index = self.position(node)
        return [] if index is None else self.nodes[index : self.ends[index]]


def walk(node: cst.CSTNode, enter: Callable[[cst.CSTNode], bool]) -> None:
    """Call `enter` on `node` and its descendants in source order; False skips the subtree."""
    stack = [node]
    while stack:
        current = stack.pop()
        if enter(current):
            stack.extend(reversed(children(current)))


def visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """What `node.visit(visitor)` does for a read-only visitor, without rebuilding the tree.

    `visitor.on_visit` (and so its `visit_<Kind>` methods) runs on the way down; a False
    return skips the children. `on_leave` runs on the way up for every visited node, as in
    libcst. Iterative, so deep trees do not exhaust the recursion limit here.
    """
    if _dispatches_by_kind(visitor):
        _visit_by_kind(node, visitor)
        return
    on_visit = visitor.on_visit
    on_leave = visitor.on_leave
    stack: list[tuple[cst.CSTNode, bool]] = [(node, False)]
    while stack:
        current, leaving = stack.pop()
        if leaving:
            on_leave(current)
            continue
        if on_visit(current):
            stack.append((current, True))
            stack.extend((child, False) for child in reversed(children(current)))
        else:
            on_leave(current)


def _dispatches_by_kind(visitor: cst.CSTVisitor) -> bool:
    """Whether the visitor keeps libcst's own `on_visit`/`on_leave`, which only call its
    `visit_<Kind>`/`leave_<Kind>` methods."""
    on_visit = getattr(visitor.on_visit, "__func__", None)
    on_leave = getattr(visitor.on_leave, "__func__", None)
    return on_visit is _DEFAULT_ON_VISIT and on_leave is _DEFAULT_ON_LEAVE


_DEFAULT_ON_VISIT = cst.CSTVisitor.on_visit
_DEFAULT_ON_LEAVE = cst.CSTVisitor.on_leave


def _visit_by_kind(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """`visit` for a visitor with libcst's own dispatch, the same calls in the same order.

    libcst formats a method name and looks it up twice for every node; here each kind's
    `visit_<Kind>` and `leave_<Kind>` are looked up once per walk, and a node whose kind has
    no `leave_<Kind>` leaves nothing to do on the way up (most nodes, for most visitors).
    """
    visits: dict[type, Callable[[cst.CSTNode], object] | None] = {}
    leaves: dict[type, Callable[[cst.CSTNode], object] | None] = {}
    # A node to visit, or (leave_<Kind>, node) to call once its children are done.
    stack: list[cst.CSTNode | tuple[Callable[[cst.CSTNode], object], cst.CSTNode]] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple):
            leave_node, left = current
            leave_node(left)
            continue
        kind = type(current)
        if kind in visits:
            on_visit, on_leave = visits[kind], leaves[kind]
        else:
            on_visit = visits[kind] = getattr(visitor, f"visit_{kind.__name__}", None)
            on_leave = leaves[kind] = getattr(visitor, f"leave_{kind.__name__}", None)
        if on_visit is None or on_visit(current) is not False:
            if on_leave is not None:
                stack.append((on_leave, current))
            stack.extend(reversed(children(current)))
        elif on_leave is not None:
            on_leave(current)


class ScopeVisitor(cst.CSTVisitor):
    """A visitor that stays in one scope: nested functions, classes and lambdas run later,
    or never, so what they hold is not part of this scope's flow."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False
