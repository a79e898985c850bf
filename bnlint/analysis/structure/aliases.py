"""Module-level aliases of layer classes: `_BATCH_NORM = nn.BatchNorm2d`, possibly chosen.

Real code often names its norm class once at the top of a file, sometimes behind a
condition (`_BATCH_NORM = nn.SyncBatchNorm if distributed else nn.BatchNorm2d`), and then
calls the alias as a constructor. An alias counts only when every binding of the name at
module level is a plain assignment whose value is a class (or a choice between classes);
a name also bound by a `def`, an import, a loop or a second kind of value stays unknown.
Only the module's top-level statements (and the blocks of top-level `if`/`try`) are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from bnlint.analysis.names import NameResolver

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

_MAX_DEPTH = 4

# BatchNorm classes of other packages whose constructors take torch's arguments in torch's
# order (num_features, eps, momentum, affine, ...): read as the torch class they mirror.
_THIRD_PARTY_NORMS = {
    "encoding.nn.SyncBatchNorm": "torch.nn.SyncBatchNorm",
    "encoding.nn.BatchNorm2d": "torch.nn.BatchNorm2d",
    "apex.parallel.SyncBatchNorm": "torch.nn.SyncBatchNorm",
    "apex.parallel.optimized_sync_batchnorm.SyncBatchNorm": "torch.nn.SyncBatchNorm",
    "inplace_abn.InPlaceABNSync": "torch.nn.SyncBatchNorm",
}
# Vendored copies (`from .sync_batchnorm import SynchronizedBatchNorm2d`) match by class name.
_THIRD_PARTY_SUFFIXES = {f"SynchronizedBatchNorm{n}d": f"torch.nn.BatchNorm{n}d" for n in (1, 2, 3)}

_CACHE: WeakKeyDictionary[FileContext, dict[str, frozenset[str]]] = WeakKeyDictionary()


def module_aliases(module: cst.Module, names: NameResolver) -> dict[str, frozenset[str]]:
    """Module-level names bound only to classes: name -> every qualified class it may be.

    >>> `BN = nn.BatchNorm2d` -> {"BN": {"torch.nn.BatchNorm2d"}}
    >>> `BN = nn.SyncBatchNorm if ddp else nn.BatchNorm2d` -> both classes
    >>> `BN = nn.BatchNorm2d` and later `def BN(...)` -> nothing for "BN"
    """
    values: dict[str, list[cst.BaseExpression | None]] = {}
    for statement in _statements(module.body):
        _bindings(statement, values)
    resolved: dict[str, frozenset[str]] = {}
    for name, bound in values.items():
        classes: set[str] = set()
        for value in bound:
            found = None if value is None else _classes(value, names, values, 0)
            if found is None:
                break
            classes |= found
        else:
            if classes:
                resolved[name] = frozenset(classes)
    return resolved


def aliases_of(ctx: FileContext) -> dict[str, frozenset[str]]:
    """`module_aliases` of the context's file, computed once per file."""
    found = _CACHE.get(ctx)
    if found is None:
        found = module_aliases(ctx.module, ctx.names)
        _CACHE[ctx] = found
    return found


def callee_classes(ctx: FileContext, func: cst.BaseExpression) -> frozenset[str]:
    """The qualified classes a call's callee may be: an import, or a module-level alias.

    >>> `nn.BatchNorm2d` -> {"torch.nn.BatchNorm2d"};  `_BATCH_NORM` (an alias) -> its classes
    >>> a local name or an unknown callee -> frozenset()
    """
    qualified = ctx.names.qualified_name(func)
    if qualified is not None:
        return frozenset({mirrored_class(qualified)})
    if isinstance(func, cst.Name):
        return aliases_of(ctx).get(func.value, frozenset())
    return frozenset()


def mirrored_class(qualified: str) -> str:
    """The torch class a third-party BatchNorm mirrors argument for argument, else itself.

    >>> mirrored_class("encoding.nn.SyncBatchNorm") -> "torch.nn.SyncBatchNorm"
    """
    found = _THIRD_PARTY_NORMS.get(qualified)
    if found is not None:
        return found
    return _THIRD_PARTY_SUFFIXES.get(qualified.rpartition(".")[2], qualified)


def _statements(body: Sequence[cst.BaseStatement]) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    for statement in body:
        found.append(statement)
        if isinstance(statement, cst.If | cst.Try):
            suites: list[cst.BaseSuite] = [statement.body]
            if isinstance(statement, cst.Try):
                suites.extend(handler.body for handler in statement.handlers)
                if statement.orelse is not None:
                    suites.append(statement.orelse.body)
            else:
                orelse = statement.orelse
                while isinstance(orelse, cst.If):
                    suites.append(orelse.body)
                    orelse = orelse.orelse
                if isinstance(orelse, cst.Else):
                    suites.append(orelse.body)
            for suite in suites:
                if isinstance(suite, cst.IndentedBlock):
                    found.extend(_statements(list(suite.body)))
    return found


def _bindings(statement: cst.CSTNode, values: dict[str, list[cst.BaseExpression | None]]) -> None:
    if isinstance(statement, cst.FunctionDef | cst.ClassDef):
        values.setdefault(statement.name.value, []).append(None)
        return
    if isinstance(statement, cst.For | cst.With | cst.While):
        # Names bound by a loop or a `with` at top level: never aliases.
        if isinstance(statement, cst.For) and isinstance(statement.target, cst.Name):
            values.setdefault(statement.target.value, []).append(None)
        return
    if not isinstance(statement, cst.SimpleStatementLine):
        return
    for small in statement.body:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    values.setdefault(target.target.value, []).append(small.value)
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            values.setdefault(small.target.value, []).append(small.value)
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            values.setdefault(small.target.value, []).append(None)
        elif isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
            small.names, cst.ImportStar
        ):
            for alias in small.names:
                name = alias.asname.name if alias.asname else alias.name
                if isinstance(name, cst.Name):
                    # An import is not a value the alias table reads, but it does not
                    # make the name unknown either: the import resolver answers for it.
                    values.setdefault(name.value, []).append(None)


def _classes(
    value: cst.BaseExpression,
    names: NameResolver,
    values: dict[str, list[cst.BaseExpression | None]],
    depth: int,
) -> frozenset[str] | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, cst.IfExp):
        body = _classes(value.body, names, values, depth + 1)
        orelse = _classes(value.orelse, names, values, depth + 1)
        return None if body is None or orelse is None else body | orelse
    qualified = names.qualified_name(value)
    if qualified is not None:
        return frozenset({mirrored_class(qualified)})
    if isinstance(value, cst.Name) and value.value in values:
        found: set[str] = set()
        for inner in values[value.value]:
            classes = None if inner is None else _classes(inner, names, values, depth + 1)
            if classes is None:
                return None
            found |= classes
        return frozenset(found)
    return None
