"""The structural model of a file's modules: layers, their order, and the data path.

`StructureIndex` answers what the architecture rules (BN2xx) ask: which layer's output
feeds only which other layer (`links`), which normalization is the last thing a model
returns after its classifier (`output_norms`), and which classes are sequence models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from bnlint.analysis.structure.elements import Block, first_layer, last_layer
from bnlint.analysis.structure.index import Link, ModuleClass, OutputNorm, StructureIndex
from bnlint.analysis.structure.layers import Expr, Kind, Layer, same_value

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

_CACHE: WeakKeyDictionary[FileContext, StructureIndex] = WeakKeyDictionary()


def structure_of(ctx: FileContext) -> StructureIndex:
    """The file's structural model, built on first use and shared by every BN2xx rule.

    >>> structure_of(ctx).links -> [Link(Conv2d -> BatchNorm2d, "sequential"), ...]
    """
    index = _CACHE.get(ctx)
    if index is None:
        index = StructureIndex(ctx.module, ctx.names, ctx.semantic)
        _CACHE[ctx] = index
    return index


__all__ = [
    "Block",
    "Expr",
    "Kind",
    "Layer",
    "Link",
    "ModuleClass",
    "OutputNorm",
    "StructureIndex",
    "first_layer",
    "last_layer",
    "same_value",
    "structure_of",
]
