"""SyncBatchNorm conversions in a file, and whether one is only an opt-in flag's choice.

Data-parallel training normalizes each device's batch on its own unless BatchNorm layers are
converted to SyncBatchNorm. Many training scripts convert only behind a command-line flag
that is off by default (`if opt.sync_bn: model = nn.SyncBatchNorm.convert_sync_batchnorm(
model)` with `action="store_true"`): a default run still normalizes per device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import libcst as cst

from bnlint.analysis.calls import argument, boolean
from bnlint.analysis.names import dotted_name, last_name
from bnlint.analysis.walk import children, walk

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

_CONVERTERS = frozenset({"convert_sync_batchnorm", "convert_syncbn_model"})
_SYNC_CLASSES = frozenset({"SyncBatchNorm", "SynchronizedBatchNorm2d", "SynchronizedBatchNorm1d"})


@dataclass(frozen=True)
class SyncBatchNorm:
    """How a file uses SyncBatchNorm: `converts` when some conversion or SyncBatchNorm layer
    is written; `opt_in` names the flag (`--sync-bn`) when every conversion sits under a test
    of a command-line flag that is off by default."""

    converts: bool
    opt_in: str | None = None


_CACHE: WeakKeyDictionary[FileContext, SyncBatchNorm] = WeakKeyDictionary()


def sync_batch_norm(ctx: FileContext) -> SyncBatchNorm:
    """The file's SyncBatchNorm use, read once per file.

    >>> `model = nn.SyncBatchNorm.convert_sync_batchnorm(model)` -> converts, no opt-in
    >>> the same under `if opt.sync_bn:` with `add_argument("--sync-bn", action="store_true")`
    >>> -> converts, opt_in "--sync-bn"
    """
    found = _CACHE.get(ctx)
    if found is None:
        found = _read(ctx.module)
        _CACHE[ctx] = found
    return found


def _read(module: cst.Module) -> SyncBatchNorm:
    guards: list[cst.BaseExpression | None] = []
    flags: dict[str, bool | None] = {}  # argparse dest -> default (None: not a boolean)
    stack: list[cst.CSTNode] = []

    def enter(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            name = last_name(node.func)
            if name in _CONVERTERS or name in _SYNC_CLASSES:
                tests = [a.test for a in stack if isinstance(a, cst.If)]
                guards.append(tests[-1] if tests else None)
            elif name == "add_argument":
                _flag(node, flags)
        stack.append(node)
        return True

    def leave(node: cst.CSTNode) -> None:
        stack.pop()

    _walk_with_stack(module, enter, leave)
    if not guards:
        return SyncBatchNorm(False)
    opt_in: str | None = None
    for test in guards:
        flag = None if test is None else _off_by_default_flag(test, flags)
        if flag is None:
            return SyncBatchNorm(True)
        opt_in = opt_in or flag
    return SyncBatchNorm(True, opt_in)


def _walk_with_stack(
    node: cst.CSTNode,
    enter: Callable[[cst.CSTNode], bool],
    leave: Callable[[cst.CSTNode], None],
) -> None:
    if enter(node):
        for child in children(node):
            _walk_with_stack(child, enter, leave)
    leave(node)


def _flag(call: cst.Call, flags: dict[str, bool | None]) -> None:
    names = [
        arg.value.evaluated_value
        for arg in call.args
        if arg.keyword is None and isinstance(arg.value, cst.SimpleString)
    ]
    long = next((n for n in names if isinstance(n, str) and n.startswith("--")), None)
    dest_arg = argument(call, "dest")
    if dest_arg is not None and isinstance(dest_arg.value, cst.SimpleString):
        dest = dest_arg.value.evaluated_value
    elif long is not None:
        dest = long[2:].replace("-", "_")
    else:
        return
    if not isinstance(dest, str):
        return
    action = argument(call, "action")
    default = argument(call, "default")
    written = None if default is None else boolean(default.value)
    if action is not None and isinstance(action.value, cst.SimpleString):
        kind = action.value.evaluated_value
        if kind == "store_true":
            flags[dest] = False if default is None else written
            return
        if kind == "store_false":
            flags[dest] = True if default is None else written
            return
    flags[dest] = written


def _off_by_default_flag(test: cst.BaseExpression, flags: dict[str, bool | None]) -> str | None:
    """The flag a test reads when it is an argparse flag that defaults to False."""
    found: list[str] = []

    def enter(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Attribute):
            written = dotted_name(node)
            if written is not None and flags.get(node.attr.value) is False:
                found.append("--" + node.attr.value.replace("_", "-"))
            return False
        return not isinstance(node, cst.UnaryOperation)  # `not opt.no_sync` is another story

    walk(test, enter)
    return found[0] if found else None
