"""What a module expression builds: a layer, a Sequential block of them, or something opaque."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import libcst as cst

from bnlint.analysis.structure.layers import Layer


class Opaque:
    """A module bnlint cannot see into (a call of an unknown class, a parameter)."""

    def __repr__(self) -> str:
        return "OPAQUE"


class Gap:
    """Unknown layers may sit here (a conditional or a loop added them)."""

    def __repr__(self) -> str:
        return "GAP"


OPAQUE = Opaque()
GAP = Gap()


@dataclass(frozen=True)
class Block:
    """An `nn.Sequential`: its items in order, and runs known to be adjacent elsewhere.

    `items` may hold GAP where the list behind `*layers` was extended conditionally;
    `fragments` are the certain runs inside those conditional parts (a loop body that
    appends a conv then a BN), used for adjacency only.
    """

    node: cst.Call | None
    items: tuple[Item, ...]
    fragments: tuple[tuple[Item, ...], ...] = field(default=())
    # Pairs adjacent only when a branch runs (`if bn: layers.append(nn.BatchNorm2d(c))` right
    # after a conv): true links on that path, but not on every path through the builder.
    conditional: tuple[tuple[Item, Item], ...] = field(default=())


Element = Layer | Block | Opaque
Item = Layer | Block | Opaque | Gap


@dataclass
class Listed:
    """What a list of layers holds: its items in order, certain runs inside its conditional
    parts, and the pairs adjacent only when a branch runs (see `Block`)."""

    items: list[Item]
    fragments: list[tuple[Item, ...]] = field(default_factory=list)
    conditional: list[tuple[Item, Item]] = field(default_factory=list)

    def __add__(self, other: Listed) -> Listed:
        joined = Listed(
            self.items + other.items,
            self.fragments + other.fragments,
            self.conditional + other.conditional,
        )
        return joined


def first_layer(element: Item | None) -> Layer | None:
    """The layer that receives a block's input; None when unknown.

    >>> nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()) -> the Conv2d
    >>> nn.Sequential(*layers) with a conditional first append -> None
    """
    while isinstance(element, Block):
        if not element.items:
            return None
        element = element.items[0]
    return element if isinstance(element, Layer) else None


def last_layer(element: Item | None) -> Layer | None:
    """The layer whose output leaves a block; None when unknown."""
    while isinstance(element, Block):
        if not element.items:
            return None
        element = element.items[-1]
    return element if isinstance(element, Layer) else None


def adjacent(items: tuple[Item, ...]) -> list[tuple[Layer, Layer]]:
    """Pairs (producer, consumer) of consecutive items, looking into nested blocks' ends."""
    pairs: list[tuple[Layer, Layer]] = []
    for before, after in pairwise(items):
        producer, consumer = last_layer(before), first_layer(after)
        if producer is not None and consumer is not None:
            pairs.append((producer, consumer))
    return pairs
