"""Fast walks over `ast` trees (`ast.walk` and `iter_child_nodes` are generator-heavy).

The project index flattens every file of a run (`Flat`) and the linter measures every
candidate's depth (`depth`), so these two loops are among the hottest code of a cold run.
"""

from __future__ import annotations

import ast

_AST = ast.AST


# Nodes that open a scope of their own: a function's statements do not include theirs.
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_NOT_STATEMENTS = (*SCOPES, ast.Module)
_EXPR_CONTEXT = ast.expr_context


class Flat:
    """A whole tree flattened once, so that every later scan of a part of it is a slice.

    `nodes` lists the tree in post-order (a node after its children, children in field
    order: an argument before its call, a value before its assignment), without the shared
    `Load`/`Store` markers. A node's subtree is `nodes[start:end]` for its `span`; each node's
    `owners` entry is the innermost function, class or lambda around it (None at module
    level). `depth` is `depth`'s answer, the markers counted.
    """

    def __init__(self, root: ast.AST) -> None:
        self.nodes: list[ast.AST] = []
        self.owners: list[ast.AST | None] = []
        # id(scope node) -> (start, end) of its subtree, and of its `body` statements.
        self._spans: dict[int, tuple[int, int]] = {}
        self._bodies: dict[int, tuple[int, int]] = {}
        self.depth = 0
        self._by_type: dict[type, list[int]] | None = None
        self._visit(root, None, 1)

    def _visit(self, node: ast.AST, owner: ast.AST | None, level: int) -> None:
        # Recursive on purpose: the index's trees are a few dozen levels deep, and a call
        # per node is faster than an explicit stack; deeper trees raise RecursionError.
        nodes = self.nodes
        start = len(nodes)
        if level > self.depth:
            self.depth = level
        scope = isinstance(node, SCOPES)
        inner = node if scope else owner
        below = level + 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, _AST):
                if isinstance(value, _EXPR_CONTEXT):
                    if below > self.depth:
                        self.depth = below
                else:
                    self._visit(value, inner, below)
            elif value.__class__ is list:
                body_start = len(nodes)
                for item in value:
                    if isinstance(item, _AST):
                        self._visit(item, inner, below)
                if scope and name == "body":
                    self._bodies[id(node)] = (body_start, len(nodes))
        if scope:
            self._spans[id(node)] = (start, len(nodes) + 1)
        nodes.append(node)
        self.owners.append(owner)

    def positions_of(self, *kinds: type[ast.AST]) -> list[int]:
        """The positions in `nodes` of every node of these exact types, in post-order."""
        if self._by_type is None:
            by_type: dict[type, list[int]] = {}
            for position, node in enumerate(self.nodes):
                found = by_type.get(type(node))
                if found is None:
                    by_type[type(node)] = [position]
                else:
                    found.append(position)
            self._by_type = by_type
        if len(kinds) == 1:
            return self._by_type.get(kinds[0], [])
        return sorted(p for kind in kinds for p in self._by_type.get(kind, []))

    def of_kind(self, *kinds: type[ast.AST]) -> list[ast.AST]:
        """Every node of these exact types (`ast` has no subclasses of its node types), in
        post-order: the scans of a whole file read these instead of every node."""
        nodes = self.nodes
        return [nodes[position] for position in self.positions_of(*kinds)]

    def subtree(self, scope: ast.AST) -> list[ast.AST]:
        """Every node of a function, class or lambda, itself included (post-order)."""
        start, end = self._spans[id(scope)]
        return self.nodes[start:end]

    def statements_of(self, scope: ast.AST | None) -> list[ast.AST]:
        """The nodes of a scope's own statements in evaluation order, without nested
        functions, classes or lambdas (the whole module for None)."""
        if scope is None:
            start, end = 0, len(self.nodes)
        else:
            start, end = self._bodies[id(scope)]
        owners = self.owners
        return [
            node
            for position, node in enumerate(self.nodes[start:end], start)
            if owners[position] is scope and not isinstance(node, _NOT_STATEMENTS)
        ]


def depth(root: ast.AST) -> int:
    """How many nodes deep the tree goes (iteratively: the tree may be deep)."""
    deepest = 0
    stack = [(root, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, level = pop()
        if level > deepest:
            deepest = level
        level += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, _AST):
                push((value, level))
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, _AST):
                        push((item, level))
    return deepest


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` as written, or None when it is not a plain dotted name (the `ast` twin of
    `names.dotted_name`).

    >>> dotted_name(ast.parse("self.net.eval", mode="eval").body)
    'self.net.eval'
    """
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None
