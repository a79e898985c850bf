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
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.batch_size import BatchSizes
from bnlint.analysis.bindings import BindingIndex
from bnlint.analysis.calls import argument, boolean
from bnlint.analysis.names import dotted_name, last_name
from bnlint.analysis.project import BATCH_NORM, Tri
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
DDP = frozenset({"torch.nn.parallel.DistributedDataParallel"})
_OPTIMIZERS = frozenset(
    {
        "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
        "ASGD", "Rprop", "LBFGS", "LARS", "LAMB", "Lamb", "Lars", "Lion", "Adafactor",
    }
)  # fmt: skip
# Calls that return the model they are given (or wrap it, keeping its layers).
_SAME_MODEL_METHODS = frozenset(
    {"to", "cuda", "cpu", "train", "float", "double", "half", "bfloat16", "requires_grad_"}
)
_WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
        "torch.compile",
    }
)
_TORCHVISION_BN = re.compile(
    r"^(resnet\d+|resnext\d+_\w+|wide_resnet\d+_\d|vgg\d+_bn|densenet\d+|mobilenet_v2|mobilenet_v3_\w+"
    r"|efficientnet_b\d|efficientnet_v2_[sml]|regnet_[xy]_\w+|inception_v3|googlenet"
    r"|shufflenet_v2_x\d_\d|mnasnet\d_\d+)$"
)
_TIMM_BN = re.compile(
    r"^(resnet\d+[a-z]?|resnext\d+\w*|seresnet\d+\w*|seresnext\d+\w*|efficientnet_b\d|tf_efficientnet_b\d"
    r"|mobilenetv2_\d+|mobilenetv3_\w+|densenet\d+|regnet[xy]_\d+|mixnet_[smlx]+|mnasnet_\w+"
    r"|dla\d+|dpn\d+|hrnet_w\d+|inception_v3|xception\d*|vgg\d+_bn|rexnet_\d+|ghostnet_\d+|res2net\d+\w*"
    r"|resnest\d+\w*|repvgg_\w+|skresnet\d+|cspresnet\d+|cspdarknet\d+|darknet\d+)$"
)
_NOT_BN_TIMM = re.compile(r"(^|_)(gn|nf|frn|evos|evob)(_|$)|resnetv2|_gn\b|bit")
_LAYER_MODULES = frozenset({"torch.nn", "torch", "torch.nn.functional", "math", "functools"})
_OTHER_NORMS = frozenset({"torch.nn.GroupNorm"})
_BUILTINS = frozenset(
    {"super", "len", "range", "int", "float", "list", "dict", "tuple", "set", "max", "min", "isinstance",
     "getattr", "hasattr", "setattr", "zip", "enumerate", "sum", "print", "round", "abs", "sorted", "str"}
)  # fmt: skip
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
        self._class_memo: dict[str, bool | None] = {}

    @property
    def index(self) -> BindingIndex:
        return self.batch_sizes.index

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
            if tail == "backward" or (tail == "fit" and isinstance(later.func, cst.Attribute)):
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
            if tail in _OPTIMIZERS and call.args and not call.args[0].keyword:
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
                found[name] = TrainedModel(name, self.has_batch_norm(root, scopes))
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
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _SAME_MODEL_METHODS
            and self.ctx.names.qualified_name(func) is None
        ):
            return self.has_batch_norm(func.value, scopes, depth + 1)
        qualified = self.ctx.names.qualified_name(func)
        if qualified is not None:
            if qualified in _WRAPPERS and call.args:
                return self.has_batch_norm(call.args[0].value, scopes, depth + 1)
            module, _, attr = qualified.rpartition(".")
            if module == "torchvision.models" and _TORCHVISION_BN.match(attr):
                return True
            if qualified == "timm.create_model" and call.args:
                arch = call.args[0].value
                if isinstance(arch, cst.SimpleString) and isinstance(arch.evaluated_value, str):
                    text = arch.evaluated_value.split(".")[0]
                    if _TIMM_BN.match(text) and not _NOT_BN_TIMM.search(text):
                        return True
            return None
        if isinstance(func, cst.Name) and func.value in self.index.classes:
            return self.class_has_batch_norm(func.value)
        return self._project_class_has_batch_norm(qualified or dotted_name(func))

    def _project_class_has_batch_norm(self, reference: str | None) -> bool | None:
        """A class from another file of the run, as the project index knows it (YES only)."""
        if reference is None or not reference.rpartition(".")[2][:1].isupper():
            return None
        answer = self.ctx.models.reference_contains(reference, BATCH_NORM)
        return True if answer is Tri.YES else None

    def class_has_batch_norm(
        self, class_name: str, seen: frozenset[str] = frozenset()
    ) -> bool | None:
        """Whether a class of this file builds BatchNorm layers (through its bases too).

        >>> `class Net(nn.Module)` calling `nn.BatchNorm2d(64)` in `__init__` -> True
        >>> a subclass of an imported class with no BatchNorm of its own -> None
        """
        if not seen and class_name in self._class_memo:
            return self._class_memo[class_name]
        cls = self.index.classes.get(class_name)
        if cls is None or class_name in seen:
            return None
        answer = self._class_answer(cls, seen | {class_name})
        if not seen:
            self._class_memo[class_name] = answer
        return answer

    def _class_answer(self, cls: cst.ClassDef, seen: frozenset[str]) -> bool | None:
        if self._class_mentions_batch_norm(cls, seen):
            # `norm = nn.BatchNorm2d if bn else nn.GroupNorm`: which one is built is unknown.
            if any(
                isinstance(node, cst.Name | cst.Attribute)
                and self.ctx.names.matches(node, _OTHER_NORMS)
                for node in _walk_expressions(cls)
            ):
                return None
            return True
        # Bases outside this file may hold anything.
        for base in cls.bases:
            if isinstance(base.value, cst.Name) and base.value.value in self.index.classes:
                if self.class_has_batch_norm(base.value.value, seen):
                    return True
                continue
            qualified = self.ctx.names.qualified_name(base.value)
            if qualified not in torch_api.MODULE_BASES:
                return None
        return False if self._class_is_self_contained(cls) else None

    def _class_mentions_batch_norm(self, cls: cst.ClassDef, seen: frozenset[str]) -> bool:
        for node in _walk_expressions(cls):
            if isinstance(node, cst.Name | cst.Attribute) and self.ctx.names.matches(
                node, torch_api.BATCH_NORMS
            ):
                return True
            if isinstance(node, cst.Call) and self._call_builds_batch_norm(node, seen):
                return True
        return False

    def _call_builds_batch_norm(self, node: cst.Call, seen: frozenset[str]) -> bool:
        func = node.func
        if isinstance(func, cst.Name) and func.value in self.index.classes:
            return func.value not in seen and bool(self.class_has_batch_norm(func.value, seen))
        if isinstance(func, cst.Name) and func.value in self._batch_norm_helpers:
            return True
        return self.ctx.names.qualified_name(func) is not None and bool(
            self._constructor_has_batch_norm(node, [self.ctx.module], 0)
        )

    @cached_property
    def _batch_norm_helpers(self) -> frozenset[str]:
        """Module-level functions of this file that build BatchNorm layers (`conv_bn(...)`)."""
        return frozenset(
            function.name.value
            for function in self.index.functions
            if function in self.index.scopes
            and self.index.scopes[function].parent is self.index.scopes.get(self.ctx.module)
            and any(
                isinstance(node, cst.Name | cst.Attribute)
                and self.ctx.names.matches(node, torch_api.BATCH_NORMS)
                for node in _walk_expressions(function)
            )
        )

    def _class_is_self_contained(self, cls: cst.ClassDef) -> bool:
        """Whether every submodule the class builds is a torch layer or a class of this file."""
        for node in _walk_expressions(cls):
            if not isinstance(node, cst.Call):
                continue
            func = node.func
            if isinstance(func, cst.Name) and func.value in self.index.classes:
                if self.class_has_batch_norm(func.value) is not False:
                    return False
                continue
            qualified = self.ctx.names.qualified_name(func)
            if qualified is None:
                if isinstance(func, cst.Name) and func.value not in _BUILTINS:
                    return False
                continue
            module = qualified.rpartition(".")[0]
            if module not in _LAYER_MODULES and qualified.rpartition(".")[2][:1].isupper():
                return False
        return True

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
    if isinstance(func, cst.Attribute) and func.attr.value in _SAME_MODEL_METHODS:
        inner = func.value
        return (isinstance(inner, cst.Name) and inner.value == name) or _is_same_model(inner, name)
    if (
        value.args
        and isinstance(value.args[0].value, cst.Name)
        and value.args[0].value.value == name
    ):
        tail = last_name(func)
        return tail in (
            "DistributedDataParallel",
            "DataParallel",
            "DDP",
            "convert_sync_batchnorm",
            "compile",
        )
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
            if isinstance(call.func, cst.Attribute) and call.func.attr.value == "backward":
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
