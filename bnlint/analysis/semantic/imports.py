"""Imports as neutral records, and the one table that resolves names through them.

Both front ends produce the same `ImportRecord`s: the libcst linter (`from_cst`) and the
`ast` project indexer (`from_ast`), so a name means the same thing to a rule and to the
index: `from torch import nn as tnn` then `tnn.BatchNorm2d` is `torch.nn.BatchNorm2d` to both.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bnlint.analysis.torch_api import canonical

if TYPE_CHECKING:
    import libcst as cst


STAR = "*"
# What these names mean by convention, when they reach a file only through a star import.
_STAR_CONVENTIONS = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch"}


@dataclass(frozen=True)
class ImportRecord:
    """One imported name.

    `import a.b` -> ImportRecord("a.b", None, None); `import a.b as c` -> ("a.b", None, "c");
    `from ..a import b as c` -> ("..a", "b", "c"); `from a import *` -> ("a", "*").
    """

    module: str
    name: str | None = None
    asname: str | None = None

    def binding(self) -> tuple[str, str]:
        """The local name this import binds and the qualified name it stands for.

        >>> ImportRecord("torch.nn").binding()              # `import torch.nn` binds `torch`
        ('torch', 'torch')
        >>> ImportRecord("torch", "nn", "tnn").binding()
        ('tnn', 'torch.nn')
        """
        if self.name is None:
            if self.asname is not None:
                return self.asname, self.module
            top = self.module.split(".")[0]
            return top, top
        sep = "" if self.module.endswith(".") else "."
        return self.asname or self.name, f"{self.module}{sep}{self.name}"


def _cst_dotted(node: cst.BaseExpression | None) -> str:
    import libcst as cst  # only the linter's front end needs it; the project index does not

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_cst_dotted(node.value)}.{node.attr.value}"
    return ""


def _cst_asname(alias: cst.ImportAlias) -> str | None:
    import libcst as cst

    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return None


def from_cst(node: cst.Import | cst.ImportFrom) -> list[ImportRecord]:
    """The records of a libcst import statement."""
    import libcst as cst

    if isinstance(node, cst.Import):
        return [ImportRecord(_cst_dotted(a.name), None, _cst_asname(a)) for a in node.names]
    module = "." * len(node.relative) + _cst_dotted(node.module)
    if isinstance(node.names, cst.ImportStar):
        return [ImportRecord(module, STAR)]
    return [ImportRecord(module, _cst_dotted(a.name), _cst_asname(a)) for a in node.names]


def from_ast(node: ast.Import | ast.ImportFrom) -> list[ImportRecord]:
    """The records of an `ast` import statement."""
    if isinstance(node, ast.Import):
        return [ImportRecord(a.name, None, a.asname) for a in node.names]
    module = "." * node.level + (node.module or "")
    return [ImportRecord(module, a.name, a.asname) for a in node.names]


class ImportTable:
    """Local names bound by imports -> the qualified names they stand for.

    >>> table.add(ImportRecord("torch", "nn")); table.qualify("nn.BatchNorm2d")
    'torch.nn.BatchNorm2d'
    >>> table.qualify("model.eval")   # `model` is not imported
    """

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.star_imports = False

    def add(self, record: ImportRecord) -> None:
        if record.name == STAR:
            self.star_imports = True
            return
        local, target = record.binding()
        self.aliases[local] = target

    def qualify(self, dotted: str) -> str | None:
        """The canonical qualified name of a dotted name whose root is imported, else None.

        In a file with a star import, the conventional torch aliases (`nn`, `F`) that no
        import of the file binds come from the star (`from .parts import *`, where `parts`
        has `import torch.nn as nn`).
        """
        root, _, rest = dotted.partition(".")
        target = self.aliases.get(root)
        if target is None and self.star_imports:
            target = _STAR_CONVENTIONS.get(root)
        if target is None:
            return None
        return canonical(f"{target}.{rest}" if rest else target)

    def resolve(self, dotted: str) -> str:
        """`qualify`, or the name as written when its root is local (`Net`, `self.fc`)."""
        return self.qualify(dotted) or dotted
