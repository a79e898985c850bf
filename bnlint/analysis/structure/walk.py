"""A fast pre-order walk over libcst nodes for the structural model.

libcst's visitor machinery rebuilds every node it passes; the model only reads, so it
walks the dataclass fields directly, skipping the whitespace and punctuation fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import libcst as cst

_SKIPPED = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "leading_lines")
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            field.name
            for field in dataclasses.fields(kind)
            if not any(skipped in field.name for skipped in _SKIPPED)
        )
        _FIELDS[kind] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes that can hold code, in source order.

    >>> list(children(parse_expression("f(x)"))) -> [Name('f'), Arg(Name('x'))]
    """
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode, enter: Callable[[cst.CSTNode], bool]) -> None:
    """Call `enter` on `node` and its descendants in source order; False skips the subtree."""
    stack = [node]
    while stack:
        current = stack.pop()
        if enter(current):
            stack.extend(reversed(list(children(current))))
