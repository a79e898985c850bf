"""Fast walks over `ast` trees (`ast.walk` and `iter_child_nodes` are generator-heavy).

The project index walks every file of a run and the linter measures every candidate's
depth, so these two loops are among the hottest code of a cold run.
"""

from __future__ import annotations

import ast

_AST = ast.AST


def walk(root: ast.AST) -> list[ast.AST]:
    """Every node under `root`, in `ast.walk`'s breadth-first order."""
    return walk_with_depth(root)[0]


def walk_with_depth(root: ast.AST) -> tuple[list[ast.AST], int]:
    """`walk`'s nodes and `depth`'s answer from one pass (breadth-first: level by level)."""
    found = [root]
    append = found.append
    position = 0
    level_end = 1
    levels = 1
    while position < len(found):
        if position == level_end:
            levels += 1
            level_end = len(found)
        node = found[position]
        position += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, _AST):
                append(value)
            elif value.__class__ is list:
                for item in value:
                    if isinstance(item, _AST):
                        append(item)
    return found, levels


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
