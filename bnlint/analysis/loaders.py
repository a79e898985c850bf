"""The training setup of a file: which `DataLoader` trains, which models train, and which
of those certainly contain BatchNorm.

The BatchNorm question is answered narrowly here (classes of this file, torchvision and
timm constructors of known BatchNorm architectures); anything else is unknown (None),
and the BN3xx/BN402 rules stay silent on unknown.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.batch_size import BatchSizes
from bnlint.analysis.calls import argument, boolean
from bnlint.analysis.contents import built_by, contains, located
from bnlint.analysis.intent import is_training_step
from bnlint.analysis.names import dotted_name, last_name
from bnlint.analysis.semantic.scopes import SemanticModel
from bnlint.analysis.torch_api import BATCH_NORM
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
DDP = frozenset({"torch.nn.parallel.DistributedDataParallel"})
_TRAIN = ("train", "trn")
_EVAL = (
    "val",
    "valid",
    "test",
    "eval",
    "infer",
    "pred",
    "calib",
    "holdout",
    "dev",
    "query",
    "gallery",
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


class Role(enum.Enum):
    TRAIN = "train"
    EVAL = "eval"


@dataclass(frozen=True)
class TrainedModel:
    """A model whose parameters an optimizer updates (or that is put in training mode)."""

    name: str
    has_batch_norm: bool | None
    # The optimizer or `.train()` call that shows it is trained, for explanations.
    node: cst.Call | None = field(default=None, compare=False)


def name_role(name: str) -> Role | None:
    """What an identifier says about the split it holds.

    >>> name_role("train_loader") -> Role.TRAIN;  name_role("val_dl") -> Role.EVAL
    >>> name_role("loader") -> None;  name_role("trainval_loader") -> Role.TRAIN
    """
    words = [w.lower() for part in re.split(r"[_.\W]+", name) for w in _WORD.findall(part)]
    train = any(w.startswith(_TRAIN) and not w.startswith("trainer") for w in words)
    evaluate = not train and any(w.startswith(_EVAL) for w in words)
    if train:
        return Role.TRAIN
    return Role.EVAL if evaluate else None


class TrainingSetup:
    """Facts about the training in one file, shared by BN301-BN303 and BN402.

    >>> `model = torchvision.models.resnet50(); opt = SGD(model.parameters())`
    >>> -> trained_models == [TrainedModel("model", True)]
    """

    def __init__(self, ctx: FileContext, batch_sizes: BatchSizes) -> None:
        self.ctx = ctx
        self.batch_sizes = batch_sizes

    @property
    def index(self) -> SemanticModel:
        return self.ctx.semantic

    # Loaders ------------------------------------------------------------------------------

    def is_dataloader(self, call: cst.Call) -> bool:
        return self.ctx.names.matches(call.func, DATALOADERS) is not None

    @cached_property
    def loaders(self) -> list[cst.Call]:
        """Every `DataLoader(...)` call of the file, in source order."""
        return [call for call in self.index.calls if self.is_dataloader(call)]

    def loader_name(self, call: cst.Call) -> str | None:
        """The name a loader is bound to (`train_loader`, `self.train_dl`), or returned from."""
        parent = self._parent_statement(call)
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and parent.value is call:
            return dotted_name(parent.targets[0].target)
        if isinstance(parent, cst.Return):
            function = self._function_of(call)
            return function.name.value if function is not None else None
        return None

    def role(self, call: cst.Call) -> Role | None:
        """Whether a loader feeds training, evaluation, or is not known.

        >>> `train_loader = DataLoader(train_set, ...)` -> Role.TRAIN
        >>> `DataLoader(CIFAR10(root, train=False), ...)` -> Role.EVAL
        """
        signals: set[Role] = set()
        name = self.loader_name(call)
        if name is not None:
            role = name_role(name.rpartition(".")[2])
            if role is not None:
                signals.add(role)
        dataset = argument(call, "dataset", 0)
        if dataset is not None:
            role = self._dataset_role(dataset.value)
            if role is not None:
                signals.add(role)
        if len(signals) == 1:
            return signals.pop()
        if signals:
            return None
        if name is not None and self._feeds_backward(name, call):
            return Role.TRAIN
        return None

    def _dataset_role(self, dataset: cst.BaseExpression) -> Role | None:
        if isinstance(dataset, cst.Call):
            flag = argument(dataset, "train")
            if flag is not None and boolean(flag.value) is not None:
                return Role.TRAIN if boolean(flag.value) else Role.EVAL
            split = argument(dataset, "split")
            if split is not None and isinstance(split.value, cst.SimpleString):
                text = split.value.evaluated_value
                return name_role(text) if isinstance(text, str) else None
            return None
        name = dotted_name(dataset)
        return name_role(name.rpartition(".")[2]) if name else None

    def _feeds_backward(self, name: str, call: cst.Call) -> bool:
        """Whether a loop over `name` in the loader's own function runs `backward()`."""
        scopes = self.index.call_scopes.get(call, ())
        for loop, loop_scopes in self.index.loops:
            if loop_scopes != scopes:
                continue
            if name not in _iterated_names(loop.iter):
                continue
            if _contains_backward(loop.body):
                return True
        return False

    def training_step_follows(self, call: cst.Call) -> bool:
        """Whether a training step comes after `call` in the same function (or module).

        >>> `model.half()` then `loss.backward()` below it -> True
        >>> `model.half()` then `torch.jit.trace(model, x)` only -> False
        """
        order = self._call_order
        if call not in order:
            return False
        scope = self.index.call_scopes[call][-1]
        for later in self.index.calls[order[call] + 1 :]:
            if self.index.call_scopes[later][-1] is not scope:
                continue
            tail = last_name(later.func)
            if is_training_step(later) or (tail == "fit" and isinstance(later.func, cst.Attribute)):
                return True
            if isinstance(later.func, cst.Name) and later.func.value in self._training_functions:
                return True
        return False

    @cached_property
    def _call_order(self) -> dict[cst.Call, int]:
        return {call: index for index, call in enumerate(self.index.calls)}

    @cached_property
    def _training_functions(self) -> frozenset[str]:
        """Functions of this file that run `backward()`, directly or through one another."""
        bodies = {f.name.value: f for f in self.index.functions}
        training = {name for name, f in bodies.items() if _contains_backward(f.body)}
        for _ in range(3):
            callers = {
                name
                for name, f in bodies.items()
                if any(isinstance(c, cst.Call) and isinstance(c.func, cst.Name) and c.func.value in training
                       for c in _walk_expressions(f.body))
            }  # fmt: skip
            if callers <= training:
                break
            training |= callers
        return frozenset(training)

    # Models -------------------------------------------------------------------------------

    @cached_property
    def trained_models(self) -> list[TrainedModel]:
        """Models trained in this file: given to an optimizer, or switched to `train()`."""
        found: dict[str, TrainedModel] = {}
        for call in self.index.calls:
            roots: list[cst.BaseExpression] = []
            tail = last_name(call.func)
            if tail in torch_api.OPTIMIZERS and call.args and not call.args[0].keyword:
                roots = _parameter_owners(call.args[0].value)
            elif (
                tail == "train"
                and isinstance(call.func, cst.Attribute)
                and _train_call_enables(call)
            ):
                roots = [call.func.value]
            for root in roots:
                name = dotted_name(root)
                if name is None or name in found:
                    continue
                scopes = self.index.call_scopes.get(call, ())
                found[name] = TrainedModel(name, self.has_batch_norm(root, scopes), call)
        return list(found.values())

    def trained_batch_norm_model(self) -> str | None:
        """The trained model when every model this file trains certainly has BatchNorm.

        >>> a ResNet given to `SGD` -> "model";  a ResNet and an unknown model -> None
        """
        models = self.trained_models
        if models and all(m.has_batch_norm for m in models):
            return models[0].name
        return None

    def has_batch_norm(
        self, expr: cst.BaseExpression, scopes: Sequence[cst.CSTNode], depth: int = 0
    ) -> bool | None:
        """Whether the model `expr` certainly contains BatchNorm (None: unknown).

        >>> `net = torchvision.models.resnet18()` then `net` -> True
        >>> `net = build(cfg)` -> None;  a class of this file with only GroupNorm -> False
        """
        if depth > 8:
            return None
        if isinstance(expr, cst.Call):
            return self._constructor_has_batch_norm(expr, scopes, depth)
        if isinstance(expr, cst.Name):
            if expr.value == "self":
                cls = next((s for s in reversed(scopes) if isinstance(s, cst.ClassDef)), None)
                return None if cls is None else self.class_has_batch_norm(cls.name.value)
            return self._name_has_batch_norm(expr.value, scopes, depth)
        if (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.value.value == "self"
        ):
            cls = next((s for s in reversed(scopes) if isinstance(s, cst.ClassDef)), None)
            assigned = self.index.attribute_values.get(("self", expr.attr.value), [])
            values = [v for owner, v in assigned if owner is cls]
            return self._all_batch_norm(
                values, [self.ctx.module, *(s for s in scopes if s is cls)], depth
            )
        return None

    def _name_has_batch_norm(
        self, name: str, scopes: Sequence[cst.CSTNode], depth: int
    ) -> bool | None:
        found = self.index.lookup(name, scopes)
        if found is None:
            return None
        bindings, entries = found
        values = []
        for entry in entries:
            if entry.kind != "assign" or entry.value is None:
                return None
            if _is_same_model(entry.value, name):
                continue
            values.append(entry.value)
        return self._all_batch_norm(values, self.index.scopes_of(bindings), depth)

    def _all_batch_norm(
        self, values: list[cst.BaseExpression], scopes: Sequence[cst.CSTNode], depth: int
    ) -> bool | None:
        if not values:
            return None
        answers = [self.has_batch_norm(v, scopes, depth + 1) for v in values]
        if all(a is True for a in answers):
            return True
        if all(a is False for a in answers):
            return False
        return None

    def _constructor_has_batch_norm(
        self, call: cst.Call, scopes: Sequence[cst.CSTNode], depth: int
    ) -> bool | None:
        func = call.func
        qualified = self.ctx.names.qualified_name(func)
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in torch_api.SAME_MODULE_METHODS
            and qualified is None
        ):
            return self.has_batch_norm(func.value, scopes, depth + 1)
        if qualified in torch_api.SAME_LAYERS and call.args:
            return self.has_batch_norm(call.args[0].value, scopes, depth + 1)
        if isinstance(func, cst.Attribute) and func.attr.value == torch_api.FROM_PRETRAINED:
            return None
        built = built_by(call, self.ctx.names)
        if built is None:
            return None
        project = self.ctx.project_index
        built = located(built, self.ctx.filename, self.ctx.module, project)
        return contains(built, BATCH_NORM, project).certain()

    def class_has_batch_norm(self, class_name: str) -> bool | None:
        """Whether a class of the project builds BatchNorm layers (through its bases too).

        >>> `class Net(nn.Module)` calling `nn.BatchNorm2d(64)` in `__init__` -> True
        >>> a subclass of an imported class with no BatchNorm of its own -> None
        """
        return contains(class_name, BATCH_NORM, self.ctx.project_index).certain()

    # Helpers ------------------------------------------------------------------------------

    def _parent_statement(self, call: cst.Call) -> cst.CSTNode | None:
        return self._statement_parents.get(call)

    @cached_property
    def _statement_parents(self) -> dict[cst.Call, cst.CSTNode]:
        """The Assign/Return whose value is a loader call (only those are asked about)."""
        parents: dict[cst.Call, cst.CSTNode] = {}
        wanted = set(self.loaders)
        for node in _walk_statements(self.ctx.module):
            value = getattr(node, "value", None)
            if isinstance(value, cst.Call) and value in wanted:
                parents[value] = node
        return parents

    def _function_of(self, call: cst.Call) -> cst.FunctionDef | None:
        scopes = self.index.call_scopes.get(call, ())
        return next((s for s in reversed(scopes) if isinstance(s, cst.FunctionDef)), None)


def _train_call_enables(call: cst.Call) -> bool:
    if not call.args:
        return True
    return len(call.args) == 1 and boolean(call.args[0].value) is True


def _parameter_owners(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`model.parameters()` -> [model]; param groups and filters are searched too."""
    owners: list[cst.BaseExpression] = []

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in (
                "parameters",
                "named_parameters",
            ):
                owners.append(func.value)

    visit_tree(expr, _Finder())
    return owners


def _is_same_model(value: cst.BaseExpression, name: str) -> bool:
    """`model = model.to(device)` / `model = DDP(model, ...)`: a rebinding to the same layers."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Attribute) and func.attr.value in torch_api.SAME_MODULE_METHODS:
        inner = func.value
        return (isinstance(inner, cst.Name) and inner.value == name) or _is_same_model(inner, name)
    if (
        value.args
        and isinstance(value.args[0].value, cst.Name)
        and value.args[0].value.value == name
    ):
        return last_name(func) in torch_api.WRAPPER_TAILS
    return False


def _iterated_names(expr: cst.BaseExpression) -> set[str]:
    """`enumerate(tqdm(train_loader))` -> {"train_loader"}."""
    names: set[str] = set()
    name = dotted_name(expr)
    if name is not None:
        names.add(name)
    elif isinstance(expr, cst.Call):
        for arg in expr.args:
            names |= _iterated_names(arg.value)
    return names


def _contains_backward(node: cst.CSTNode) -> bool:
    found = False

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> bool:
            nonlocal found
            if is_training_step(call):
                found = True
            return not found

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

    visit_tree(node, _Finder())
    return found


def _walk_expressions(node: cst.CSTNode) -> list[cst.CSTNode]:
    collected: list[cst.CSTNode] = []

    class _Collector(cst.CSTVisitor):
        def on_visit(self, inner: cst.CSTNode) -> bool:
            if isinstance(inner, cst.Call | cst.Name | cst.Attribute):
                collected.append(inner)
            return True

    visit_tree(node, _Collector())
    return collected


def _walk_statements(module: cst.Module) -> list[cst.CSTNode]:
    collected: list[cst.CSTNode] = []

    class _Collector(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            collected.append(node)

        def visit_Return(self, node: cst.Return) -> None:
            collected.append(node)

    visit_tree(module, _Collector())
    return collected
