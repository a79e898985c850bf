"""Qualified names: what a name or dotted expression refers to, through import aliases.

The resolver is fed every import of the file in source order (module-level ones up
front, function-level ones as the single shared walk reaches them), so rules never
re-resolve imports and never match qualified names by string prefix.
"""

from __future__ import annotations

import libcst as cst

from bnlint.analysis.torch_api import canonical


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` as written, or None when it is not a plain dotted name.

    >>> dotted_name(cst.parse_expression("self.net.eval"))
    'self.net.eval'
    """
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


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


def _module_path(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    name = dotted_name(node)
    return name or ""


class NameResolver:
    """Maps local names bound by imports to the fully qualified names they stand for.

    >>> `import torch.nn as tnn` then `tnn.BatchNorm2d`  -> "torch.nn.BatchNorm2d"
    >>> `from torch.nn import BatchNorm2d as BN` then `BN` -> "torch.nn.BatchNorm2d"
    """

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}

    def add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_path(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._aliases[alias.asname.name.value] = full
                else:
                    # `import torch.nn` binds `torch`, and `torch.nn.X` resolves through it.
                    top = full.split(".")[0]
                    self._aliases[top] = top
            return
        if isinstance(node.names, cst.ImportStar):
            return
        dots = "." * len(node.relative)
        module = dots + _module_path(node.module)
        for alias in node.names:
            imported = _module_path(alias.name)
            local = imported
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            sep = "" if module.endswith(".") else "."
            self._aliases[local] = f"{module}{sep}{imported}"

    def is_imported(self, name: str) -> bool:
        return name in self._aliases

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The fully qualified name of `node` when its root name comes from an import.

        >>> `from torch import nn` then `nn.BatchNorm2d` -> "torch.nn.BatchNorm2d"
        >>> a local name (`model.eval`) -> None
        """
        if isinstance(node, cst.Name):
            target = self._aliases.get(node.value)
            return canonical(target) if target else None
        if isinstance(node, cst.Attribute):
            base = self.qualified_name(node.value)
            return None if base is None else canonical(f"{base}.{node.attr.value}")
        return None

    def matches(self, node: cst.BaseExpression, names: frozenset[str]) -> str | None:
        """The qualified name of `node` if it is one of `names`, else None."""
        qualified = self.qualified_name(node)
        return qualified if qualified in names else None
