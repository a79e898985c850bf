"""Which expressions are models, and whether they hold BatchNorm or Dropout.

`ctx.models` is the place rules read model facts from:

    >>> ctx.models.model_for(node.func, at=node)      # `net(x)` after `net = Net().cuda()`
    ModelFacts(key='net', reference='Net', batch_norm=Tri.YES, dropout=Tri.NO, ...)
    >>> ctx.models.model_for(cst.Name("features"), at=node)  # `features = extract(x)`
    None

An expression is a model when the code says so: it is bound to a constructor of an
`nn.Module` subclass (from this file or any file of the run), a torchvision/timm/hub factory,
`torch.load`, `from_pretrained`, `copy.deepcopy` or a `DataParallel`/DDP wrapper of a model;
it is a `self.x` attribute assigned one of those in the class; or `.eval()`/`.train()` /
`.parameters()` and friends are called on it, or its annotation is a module class. Names
alone never make a model. What it contains is `Tri.UNKNOWN` unless its class or factory
is known (`contents.contains`); rules count UNKNOWN as "may contain" for modes, and stay
silent for stronger claims. What an expression holds comes from the value flow (`ctx.values`).
`at` is the node the question is asked at (the answer depends on its scope).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument_for
from bnlint.analysis.contents import (
    LOOKED_UP,
    Built,
    built_by,
    contains,
    factory_contains,
    located,
)
from bnlint.analysis.names import dotted_name
from bnlint.analysis.semantic.scopes import model_key as model_key  # rules read it from here
from bnlint.analysis.torch_api import BATCH_NORM, DROPOUT
from bnlint.analysis.tri import Tri
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext
    from bnlint.analysis.project import CallSite, ProjectIndex

Scope = cst.FunctionDef | cst.Module

MODULE_METHODS = torch_api.MODULE_METHODS
CHAIN_METHODS = torch_api.SAME_MODULE_METHODS


@dataclass(frozen=True)
class ModelFacts:
    """What is known about one model expression."""

    # The expression as written, without trailing `.module` (`ddp.module` -> `ddp`).
    key: str
    # The class or factory it was built with, when known (`Net`, `torchvision.models.resnet50`).
    reference: str | None
    batch_norm: Tri
    dropout: Tri
    # How the code says it is a model, for messages: "constructed with `Net(...)`".
    origin: str
    # The mode a project helper returns it in ('train', 'eval', 'unknown'), when one built it.
    built_mode: str | None = None

    @property
    def has_mode_dependent_layers(self) -> bool:
        """False only when both BatchNorm and Dropout are known to be absent."""
        return not (self.batch_norm is Tri.NO and self.dropout is Tri.NO)

    def training_effect(self) -> str:
        """What training mode does to this model, for messages."""
        if self.batch_norm is Tri.YES:
            return "BatchNorm normalizes with each batch's own statistics"
        if self.dropout is Tri.YES:
            return "Dropout still drops activations"
        if self.batch_norm is Tri.NO:
            return "any Dropout still drops activations"
        return "any BatchNorm normalizes with each batch's statistics and Dropout stays active"


class ModelIndex:
    """Model facts for one file, built lazily per scope."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._assignments: dict[int, list[cst.Assign]] = {}
        self._answers: dict[tuple[str, int], ModelFacts | None] = {}

    @property
    def project(self) -> ProjectIndex:
        return self.ctx.project_index

    # -- public questions -------------------------------------------------------------

    def model_for(self, expr: cst.BaseExpression, at: cst.CSTNode) -> ModelFacts | None:
        """Facts about `expr` when the code shows it is a model, else None.

        >>> `model = torchvision.models.resnet18()` ... `model(x)` -> ModelFacts(batch_norm=YES)
        >>> `fn(x)` for a parameter `fn` never used as a module -> None
        """
        key = model_key(expr)
        if key is None or (key == "self" and self.ctx.enclosing(at, cst.ClassDef) is None):
            return None
        if torch_api.names_a_loss_or_metric(key):
            return None
        scope = self._scope(at)
        memo = (key, id(scope))
        if memo in self._answers:
            return self._answers[memo]
        self._answers[memo] = None  # a question that comes back to itself has no answer
        facts = self._answers[memo] = self._model_facts(key, scope)
        return facts

    def _model_facts(self, key: str, scope: Scope) -> ModelFacts | None:
        facts = self._facts(key, scope, depth=0)
        reference = facts.reference if facts is not None else None
        if reference is not None and self.project.is_loss_or_metric(reference):
            return None
        return facts

    def model_called_by(self, call: cst.Call) -> ModelFacts | None:
        """The model a call runs: `net(x)`, `net.forward(x)`, `self.model(x)`; else None.

        >>> `logits = net(images)` -> facts for `net`
        >>> `net.eval()` -> None (a method, not a forward pass)
        """
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in torch_api.FORWARD_METHODS:
            func = func.value
        if self.ctx.names.qualified_name(func) is not None:
            return None
        if isinstance(func, cst.Attribute) and func.attr.value in MODULE_METHODS | CHAIN_METHODS:
            return None
        return self.model_for(func, at=call)

    # -- scopes -----------------------------------------------------------------------

    def _scope(self, at: cst.CSTNode) -> Scope:
        for node in self._chain(at):
            if isinstance(node, cst.FunctionDef):
                return node
        return self.ctx.module

    def _chain(self, at: cst.CSTNode) -> list[cst.CSTNode]:
        return self.ctx.chain(at)

    def _enclosing_class(self, scope: Scope) -> cst.ClassDef | None:
        if isinstance(scope, cst.Module):
            return None
        return self.ctx.enclosing(scope, cst.ClassDef)

    def _uses_as_module(self, scope: Scope, key: str) -> bool:
        return key in self.ctx.scope_facts(scope).module_uses

    # -- facts ------------------------------------------------------------------------

    def _facts(self, key: str, scope: Scope, depth: int) -> ModelFacts | None:
        if depth > 4:
            return None
        values = self.ctx.values.sources(key, scope)
        facts = [self._from_value(key, value, scope, depth) for value in values]
        known = [f for f in facts if f is not None]
        if known and len(known) == len(facts):
            return _merge(known)
        if key.startswith("self.") and key.count(".") == 1:
            attribute = self._attribute_facts(key, scope)
            if attribute is not None:
                return attribute
        if "." in key and not key.startswith("self."):
            submodule = self._submodule_facts(key, scope, depth)
            if submodule is not None:
                return submodule
        if isinstance(scope, cst.FunctionDef) and _is_param(scope, key):
            annotated = self._annotated(scope, key)
            if annotated is not None:
                return annotated
            caller = self._passed_by_callers(scope, key, depth)
            if caller is not None:
                return caller
        if self._uses_as_module(scope, key) or (
            key.startswith("self.") and self._uses_as_module(self.ctx.module, key)
        ):
            return ModelFacts(key, None, Tri.UNKNOWN, Tri.UNKNOWN, f"`{key}` is used as a module")
        return None

    def _from_value(
        self, key: str, value: cst.BaseExpression, scope: Scope, depth: int
    ) -> ModelFacts | None:
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in CHAIN_METHODS
        ):
            value = value.func.value
        if isinstance(value, cst.Name | cst.Attribute):
            source = model_key(value)
            if source is None or source == key:
                return None
            inner = self._facts(source, scope, depth + 1)
            return None if inner is None else _rekey(inner, key)
        if not isinstance(value, cst.Call):
            return None
        return self.constructed(key, value, scope, depth)

    def constructed(
        self, key: str, call: cst.Call, scope: Scope | None = None, depth: int = 0
    ) -> ModelFacts | None:
        """Facts for a model built by `call` (a class, factory, load, copy or wrapper).

        >>> constructed("net", parse("Net(num_classes=10)")) -> reference 'Net'
        >>> constructed("x", parse("torch.zeros(3)")) -> None
        """
        scope = scope or self.ctx.module
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == torch_api.FROM_PRETRAINED:
            return ModelFacts(
                key, None, Tri.UNKNOWN, Tri.UNKNOWN, f"loaded with `{_short(self.ctx, func)}()`"
            )
        qualified = self.ctx.names.qualified_name(func)
        if qualified is not None:
            first = call.args[0].value if call.args and not call.args[0].keyword else None
            if (qualified in torch_api.DEEPCOPY or qualified in torch_api.WRAPPERS) and first:
                source = model_key(first)
                inner = None if source is None else self._facts(source, scope, depth + 1)
                return None if inner is None else _rekey(inner, key)
            if qualified in torch_api.TORCH_LOAD:
                # Only a model when the code also uses it as one (a state dict is not).
                if self._uses_as_module(scope, key) or self._called(scope, key):
                    plain = self._folder_holds_no_mode_layers()
                    layers = Tri.NO if plain else Tri.UNKNOWN
                    return ModelFacts(key, None, layers, layers, f"loaded with `{qualified}`")
                return None
        built = built_by(call, self.ctx.names)
        if built is None:
            return None
        built = located(built, self.ctx.filename, self.ctx.module, self.project)
        if built.reference.endswith(LOOKED_UP):
            if self._uses_as_module(scope, key) or self._called(scope, key):
                return ModelFacts(
                    key, None, Tri.UNKNOWN, Tri.UNKNOWN, f"built by `{_short(self.ctx, func)}(...)`"
                )
            return None
        if built.parts is not None:
            name = built.reference.rpartition(".")[2]
            return self._holding(key, built, f"built with `nn.{name}(...)`")
        factory = factory_contains(built.reference, BATCH_NORM, built.arch)
        if factory is not None:
            return ModelFacts(
                key,
                built.reference,
                factory,
                factory_contains(built.reference, DROPOUT, built.arch) or Tri.UNKNOWN,
                f"constructed with `{_short(self.ctx, func)}(...)`",
            )
        reference = built.reference
        if self.project.is_module_class(reference) is Tri.YES:
            return self._holding(key, built, f"constructed with `{_short(self.ctx, func)}(...)`")
        module, _, simple = reference.rpartition(".")
        summary = self.project.function(simple, self.ctx.filename, module or None)
        given = None if summary is None else argument_for(call, summary)
        if given is not None:
            # `model = reload_model(model, path)`: the same model back.
            return self._from_value(key, given, scope, depth + 1)
        if summary is not None and summary.returns_mode is not None:
            # `net = build(cfg)`: a function of the project that returns a model.
            returned = summary.returns_class
            if returned is not None and (
                self.project.is_module_class(returned) is not Tri.YES
                and factory_contains(returned, BATCH_NORM) is None
            ):
                returned = None
            holder: Built | str = built if returned is None else returned
            return ModelFacts(
                key,
                returned,
                contains(holder, BATCH_NORM, self.project),
                contains(holder, DROPOUT, self.project),
                f"built by `{_short(self.ctx, func)}()`",
                summary.returns_mode,
            )
        if reference in self.project.helpers:
            # `model = build(cfg)`: a helper of the project that builds BatchNorm or Dropout.
            batch_norm = contains(built, BATCH_NORM, self.project)
            dropout = contains(built, DROPOUT, self.project)
            if Tri.YES in (batch_norm, dropout):
                return ModelFacts(
                    key, reference, batch_norm, dropout, f"built by `{_short(self.ctx, func)}()`"
                )
        return None

    def _folder_holds_no_mode_layers(self) -> bool:
        """Whether the module classes defined beside this file (the classes a pickled model
        loaded here can be) all hold neither BatchNorm nor Dropout."""
        folder = os.path.dirname(self.ctx.filename)
        classes = [
            facts
            for found in self.project.classes.values()
            for facts in found
            if os.path.dirname(facts.filename) == folder
            and any(self.project.is_module_class(base) is Tri.YES for base in facts.bases)
        ]
        # Each class as defined here, not every class of the project with its name.
        return bool(classes) and all(
            self.project.class_contains(facts, kind) is Tri.NO
            for facts in classes
            for kind in (BATCH_NORM, DROPOUT)
        )

    def _attribute_facts(self, key: str, scope: Scope) -> ModelFacts | None:
        cls = self._enclosing_class(scope)
        if cls is None:
            return None
        attribute = key.partition(".")[2]
        reference = self.project.attribute_class(cls.name.value, attribute)
        if reference is None or reference.startswith("self."):
            return self._built_in_some_method(cls, key)
        if reference in ("torch.nn.Sequential", "torch.nn.ModuleList"):
            return ModelFacts(key, reference, Tri.UNKNOWN, Tri.UNKNOWN, "an `nn.Sequential`")
        if self.project.is_module_class(reference) is not Tri.YES and (
            factory_contains(reference, BATCH_NORM) is None
        ):
            return None
        return self._holding(
            key, reference, f"assigned `{reference.rpartition('.')[2]}(...)` in `{cls.name.value}`"
        )

    def _holding(self, key: str, holder: Built | str, origin: str) -> ModelFacts:
        """Facts for `key`, a model built as `holder` says (a class, a factory, a literal):
        what it holds of BatchNorm and Dropout."""
        reference = holder if isinstance(holder, str) else holder.reference
        return ModelFacts(
            key,
            reference,
            contains(holder, BATCH_NORM, self.project),
            contains(holder, DROPOUT, self.project),
            origin,
        )

    def _submodule_facts(self, key: str, scope: Scope, depth: int) -> ModelFacts | None:
        """`model.depth_net` where `model` is a `Model` whose class assigns
        `self.depth_net = Matrix(...)`, a module class: facts for that part."""
        owner, _, attribute = key.rpartition(".")
        parent = self._facts(owner, scope, depth + 1)
        if parent is None or parent.reference is None:
            return None
        reference = self.project.attribute_class(parent.reference.rpartition(".")[2], attribute)
        if reference is None or self.project.is_module_class(reference) is not Tri.YES:
            return None
        return self._holding(
            key,
            reference,
            f"`{reference.rpartition('.')[2]}` part of {parent.origin.partition(' ')[2] or 'it'}",
        )

    def _built_in_some_method(self, cls: cst.ClassDef, key: str) -> ModelFacts | None:
        """`self.net = YoloBody(cfg)` in `generate()`, then `self.net = DataParallel(self.net)`:
        the model any method of the class builds for `key` (the first one found)."""
        for node in self._class_assignments(cls):
            if not any(model_key(t.target) == key for t in node.targets):
                continue
            value = node.value
            while (
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Attribute)
                and value.func.attr.value in CHAIN_METHODS | torch_api.MODE_METHODS
            ):
                value = value.func.value
            if isinstance(value, cst.Call):
                facts = self.constructed(key, value)
                if facts is not None:
                    return facts
        return None

    def _class_assignments(self, cls: cst.ClassDef) -> list[cst.Assign]:
        """Every assignment in the class's methods, in source order (once per class)."""
        found = self._assignments.get(id(cls))
        if found is None:
            collected: list[cst.Assign] = []

            class _Assignments(cst.CSTVisitor):
                def visit_Assign(self, node: cst.Assign) -> None:
                    collected.append(node)

            visit_tree(cls, _Assignments())
            found = self._assignments[id(cls)] = collected
        return found

    def _annotated(self, scope: cst.FunctionDef, key: str) -> ModelFacts | None:
        for param in [
            *scope.params.posonly_params,
            *scope.params.params,
            *scope.params.kwonly_params,
        ]:
            if param.name.value != key or param.annotation is None:
                continue
            annotation = param.annotation.annotation
            reference = self.ctx.names.qualified_name(annotation) or dotted_name(annotation)
            if reference is None or self.project.is_module_class(reference) is not Tri.YES:
                return None
            return self._holding(key, reference, f"annotated `{reference.rpartition('.')[2]}`")
        return None

    def _passed_by_callers(
        self, scope: cst.FunctionDef, key: str, depth: int = 0
    ) -> ModelFacts | None:
        """A parameter that some call site in the project passes a model in a known mode."""
        params = [p.name.value for p in [*scope.params.posonly_params, *scope.params.params]]
        offset = 1 if params and params[0] in ("self", "cls") else 0
        index = params.index(key) - offset if key in params else -1
        if self._plain_everywhere_here(scope, key, depth):
            return None
        for site in self.project.sites_for(scope.name.value, self.ctx.filename):
            mode = site.arg_modes.get(index, site.arg_modes.get(key))
            if mode in ("train", "eval"):
                reference = site.arg_classes.get(index, site.arg_classes.get(key))
                if reference is not None and (
                    self.project.is_module_class(reference) is Tri.YES
                    or factory_contains(reference, BATCH_NORM) is not None
                ):
                    return self._holding(
                        key,
                        reference,
                        f"passed a `{reference.rpartition('.')[2]}` by {caller_text(site)}",
                    )
                return ModelFacts(
                    key, None, Tri.UNKNOWN, Tri.UNKNOWN, f"passed a model by {caller_text(site)}"
                )
        return None

    def _plain_everywhere_here(self, scope: cst.FunctionDef, key: str, depth: int) -> bool:
        """Whether every call of `scope` in this file passes, for `key`, a model known to
        hold neither BatchNorm nor Dropout (an `MLP(...)` built with its dropout flag off):
        what the call sites build says more than the class name the index keeps."""
        if depth > 2:
            return False
        found = self.ctx.values.passed_to(scope, key)
        if not found:
            return False
        for given, call in found:
            facts = self.model_for(cst.parse_expression(given), at=call)
            if facts is None or facts.has_mode_dependent_layers:
                return False
        return True

    def _called(self, scope: Scope, key: str) -> bool:
        return key in self.ctx.scope_facts(scope).called


def caller_text(site: CallSite) -> str:
    """How messages name the function of a call site: "`train()`", or "the script"."""
    if site.caller == "<module>":
        return "the script"
    return f"`{site.caller.rpartition('.')[2]}()`"


def _is_param(scope: cst.FunctionDef, name: str) -> bool:
    params = scope.params
    return any(
        p.name.value == name
        for p in [*params.posonly_params, *params.params, *params.kwonly_params]
    )


def _short(ctx: FileContext, node: cst.BaseExpression) -> str:
    text = ctx.code_for(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _rekey(facts: ModelFacts, key: str) -> ModelFacts:
    return dataclasses.replace(facts, key=key)


def _merge(facts: list[ModelFacts]) -> ModelFacts:
    first = facts[0]
    if all(f.reference == first.reference for f in facts):
        return first

    def join(values: set[Tri]) -> Tri:
        return values.pop() if len(values) == 1 else Tri.UNKNOWN

    return ModelFacts(
        first.key,
        None,
        join({f.batch_norm for f in facts}),
        join({f.dropout for f in facts}),
        first.origin,
    )
