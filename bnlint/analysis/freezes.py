"""What a file does to frozen parameters and to the modes of BatchNorm layers (BN104).

>>> ctx.freezes.frozen        # `for p in self.backbone.parameters(): p.requires_grad = False`
[('Classifier', 'self.backbone')]
>>> ctx.freezes.handles_bn    # a `train()` override, FrozenBatchNorm2d, `track_running_stats`
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from bnlint.analysis.calls import boolean
from bnlint.analysis.semantic.scopes import model_key
from bnlint.analysis.walk import visit as visit_tree

# Names whose use means the file keeps BatchNorm frozen some other way.
_HANDLES_BN = frozenset({"FrozenBatchNorm2d", "track_running_stats", "freeze_bn", "_BatchNorm"})


@dataclass
class Freezes:
    """What a file does to frozen parameters and BatchNorm modes (one scan per file)."""

    # (enclosing class name or None, frozen key as written): `self.backbone`, `model.encoder`.
    frozen: list[tuple[str | None, str]] = field(default_factory=list)
    # Where each of `frozen` is first frozen (the `requires_grad_` call, the `for` loop).
    frozen_at: dict[tuple[str | None, str], cst.CSTNode] = field(default_factory=dict)
    # Keys put in eval mode anywhere in the file.
    evaluated: set[str] = field(default_factory=set)
    # The `eval()` calls of each of `evaluated`.
    evaluated_at: dict[str, list[cst.Call]] = field(default_factory=dict)
    # The file freezes BatchNorm some other way (a BN-only eval loop, a `train()` override,
    # FrozenBatchNorm, `track_running_stats`, `momentum = 0`).
    handles_bn: bool = False


def freezes(module: cst.Module) -> Freezes:
    """Scan `module` once for frozen parts and the ways it keeps BatchNorm frozen."""
    scanner = _FreezeScanner()
    visit_tree(module, scanner)
    return scanner.found


class _FreezeScanner(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = Freezes()
        self._classes: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "train" and self._classes:
            self.found.handles_bn = True  # a `train(mode)` override that keeps BN frozen

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _HANDLES_BN:
            self.found.handles_bn = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.visit_Name(node.attr)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "isinstance" and len(node.args) == 2:
            classes = cst.Module(body=[]).code_for_node(node.args[1].value)
            if "BatchNorm" in classes or "_NormBase" in classes:
                self.found.handles_bn = True  # a loop that treats BatchNorm layers apart
        if not isinstance(func, cst.Attribute):
            return
        key = model_key(func.value)
        if key is None:
            return
        if func.attr.value == "eval" or (
            func.attr.value == "train" and node.args and boolean(node.args[0].value) is False
        ):
            self.found.evaluated.add(key)
            self.found.evaluated_at.setdefault(key, []).append(node)
        if (
            func.attr.value == "requires_grad_"
            and node.args
            and boolean(node.args[0].value) is False
        ):
            self._freeze(key, node)

    def visit_For(self, node: cst.For) -> None:
        # for p in backbone.parameters(): p.requires_grad = False
        iterator = node.iter
        if not (
            isinstance(iterator, cst.Call)
            and isinstance(iterator.func, cst.Attribute)
            and iterator.func.attr.value == "parameters"
            and isinstance(node.target, cst.Name)
        ):
            return
        owner = model_key(iterator.func.value)
        target = node.target.value
        if owner is None:
            return
        text = cst.Module(body=[]).code_for_node(node.body)
        if f"{target}.requires_grad = False" in text or f"{target}.requires_grad_(False)" in text:
            self._freeze(owner, node)

    def _freeze(self, key: str, node: cst.CSTNode) -> None:
        entry = (self._class(), key)
        self.found.frozen.append(entry)
        self.found.frozen_at.setdefault(entry, node)

    def _class(self) -> str | None:
        return self._classes[-1] if self._classes else None
