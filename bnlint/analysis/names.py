"""Qualified names: what a name or dotted expression refers to, through import aliases.

The resolver is fed every import of the file in source order (module-level ones up
front, function-level ones as the single shared walk reaches them), so rules never
re-resolve imports and never match qualified names by string prefix.
"""

from __future__ import annotations

import libcst as cst

from bnlint.analysis.semantic.imports import ImportTable, from_cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` as written, or None when it is not a plain dotted name.

    >>> dotted_name(cst.parse_expression("self.net.eval"))
    'self.net.eval'
    """
    # Type tests, not isinstance(): asked of most expressions of a file (see `exact_kinds`).
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def written_strings_and_names(expression: cst.BaseExpression) -> tuple[list[str], list[str]]:
    """The string literals and the dotted names written anywhere in `expression`.

    >>> written_strings_and_names(cst.parse_expression('".bn" in name.lower()'))
    (['.bn'], ['name.lower', 'name', 'lower'])
    """
    from bnlint.analysis.walk import walk

    strings: list[str] = []
    names: list[str] = []

    def enter(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            if isinstance(value, str):
                strings.append(value)
        elif isinstance(node, cst.Name | cst.Attribute):
            written = dotted_name(node)
            if written is not None:
                names.append(written)
        return True

    walk(expression, enter)
    return strings, names


def last_name(node: cst.BaseExpression) -> str | None:
    """The last name of `f` or `a.b.f` (what a call is called by), else None.

    >>> last_name(cst.parse_expression("nn.ModuleList"))
    'ModuleList'
    """
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


class NameResolver:
    """Maps local names bound by imports to the fully qualified names they stand for.

    >>> `import torch.nn as tnn` then `tnn.BatchNorm2d`  -> "torch.nn.BatchNorm2d"
    >>> `from torch.nn import BatchNorm2d as BN` then `BN` -> "torch.nn.BatchNorm2d"

    The libcst face of the semantic model's `ImportTable`, which the project index reads
    through too.
    """

    def __init__(self) -> None:
        self.table = ImportTable()
        # id(node) -> (node, its answer) since the last import was added: every rule asks
        # about the same call's function (a dozen times per node), and the answer changes
        # only with the imports. The node is kept so that its id is not reused meanwhile.
        self._answers: dict[int, tuple[cst.BaseExpression, str | None]] = {}

    def add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        for record in from_cst(node):
            self.table.add(record)
        self._answers.clear()

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The fully qualified name of `node` when its root name comes from an import.

        >>> `from torch import nn` then `nn.BatchNorm2d` -> "torch.nn.BatchNorm2d"
        >>> a local name (`model.eval`) -> None
        """
        found = self._answers.get(id(node))
        if found is not None:
            return found[1]
        dotted = dotted_name(node)
        answer = None if dotted is None else self.table.qualify(dotted)
        self._answers[id(node)] = (node, answer)
        return answer

    def matches(self, node: cst.BaseExpression, names: frozenset[str]) -> str | None:
        """The qualified name of `node` if it is one of `names`, else None."""
        qualified = self.qualified_name(node)
        return qualified if qualified in names else None
