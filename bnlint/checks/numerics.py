"""BN4xx: numerics and state of normalization layers."""

from __future__ import annotations

import re

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument, boolean, number
from bnlint.analysis.names import dotted_name, written_strings_and_names
from bnlint.analysis.structure.aliases import callee_classes
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

KERAS_MOMENTUM_THRESHOLD = 0.5
# An eps this large no longer just guards the division: it is part of the variance.
LARGE_EPS = 0.01
# Keras' BatchNormalization momentum values seen ported by position (0.99 is its default).
_KERAS_MOMENTA = frozenset({0.8, 0.9, 0.95, 0.97, 0.99, 0.997, 0.999, 0.9997, 0.9999})
_EPS_POSITION = 1
_FUNCTIONAL_EPS_POSITION = 7
_NORM_NAME = re.compile(r"bn|batch_?norm|norm", re.IGNORECASE)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _complement(value: float) -> str:
    """`1 - m` written as a short literal: 0.99 -> '0.01'."""
    return repr(round(1 - value, 10))


def _batch_norm_class(rule: Rule, func: cst.BaseExpression) -> str | None:
    """The BatchNorm class a callee builds: an import or a module-level alias whose every
    possible class is a BatchNorm with the same argument positions."""
    classes = callee_classes(rule.ctx, func)
    if not classes or not classes <= torch_api.BATCH_NORMS:
        return None
    lazy = {name in torch_api.LAZY_BATCH_NORMS for name in classes}
    if len(lazy) != 1:
        return None
    return min(classes)


def _partial_batch_norm(rule: Rule, node: cst.Call) -> str | None:
    """The BatchNorm class of `partial(nn.BatchNorm2d, ...)`, else None."""
    if not rule.ctx.names.matches(node.func, torch_api.PARTIAL) or not node.args:
        return None
    target = node.args[0]
    if target.keyword is not None or target.star:
        return None
    return _batch_norm_class(rule, target.value)


def _first_position(layer: str, shift: int) -> int:
    # Lazy norms infer num_features, so every positional argument comes one earlier.
    return shift - 1 if layer in torch_api.LAZY_BATCH_NORMS else shift


def _keeps_running_stats(node: cst.Call, first: int) -> bool:
    tracking = argument(node, "track_running_stats", torch_api.TRACK_STATS_POSITION + first)
    return tracking is None or boolean(tracking.value) is not False


def _guarded_as_batch_norm(rule: Rule, owner: str, at: cst.CSTNode) -> bool:
    """Whether the line is guarded as applying to BatchNorm layers only.

    >>> `if isinstance(m, nn.BatchNorm2d): m.momentum = ...` -> True
    >>> `for name, m in model.named_modules(): if ".bn" in name: m.momentum = ...` -> True
    >>> `if isinstance(m, nn.Linear):`, `if "fc" in name:` -> False
    """
    loop_names = _named_modules_names(rule, owner, at)
    for ancestor in rule.ctx.chain(at):
        if not isinstance(ancestor, cst.If):
            continue
        if _isinstance_batch_norm(rule, ancestor.test, owner):
            return True
        if _name_test_for_norms(ancestor.test, owner, loop_names):
            return True
    return False


def _isinstance_batch_norm(rule: Rule, test: cst.BaseExpression, owner: str) -> bool:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _isinstance_batch_norm(rule, test.left, owner) or _isinstance_batch_norm(
            rule, test.right, owner
        )
    if not (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value == "isinstance"
        and len(test.args) == 2
        and dotted_name(test.args[0].value) == owner
    ):
        return False
    classes = test.args[1].value
    candidates = (
        [element.value for element in classes.elements]
        if isinstance(classes, cst.Tuple)
        else [classes]
    )
    return any(_batch_norm_class(rule, c) for c in candidates)


def _named_modules_names(rule: Rule, owner: str, at: cst.CSTNode) -> set[str]:
    """The name variables of `for name, owner in x.named_modules():` loops around the line."""
    found: set[str] = set()
    for ancestor in rule.ctx.chain(at):
        if not isinstance(ancestor, cst.For):
            continue
        target, iterated = ancestor.target, ancestor.iter
        if not (
            isinstance(target, cst.Tuple)
            and len(target.elements) == 2
            and isinstance(iterated, cst.Call)
            and isinstance(iterated.func, cst.Attribute)
            and iterated.func.attr.value == "named_modules"
        ):
            continue
        name, module = (element.value for element in target.elements)
        if isinstance(name, cst.Name) and dotted_name(module) == owner:
            found.add(name.value)
    return found


def _name_test_for_norms(test: cst.BaseExpression, owner: str, loop_names: set[str]) -> bool:
    """A test that selects modules by a name or class name that names a norm.

    >>> `".bn" in name`, `name.endswith("bn1")`, `"BatchNorm" in type(m).__name__` -> True
    """
    if isinstance(test, cst.BooleanOperation):
        return _name_test_for_norms(test.left, owner, loop_names) or _name_test_for_norms(
            test.right, owner, loop_names
        )
    strings, subjects = written_strings_and_names(test)
    if not any(_NORM_NAME.search(text) for text in strings):
        return False
    class_names = {f"{owner}.__class__.__name__", "type"}
    return any(
        subject in loop_names or subject in class_names or subject.startswith(f"{owner}.__class__")
        for subject in subjects
    )


@register
class KerasMomentum(Rule):
    """A BatchNorm momentum above 0.5: a Keras value in PyTorch's opposite convention."""

    code = "BN401"
    name = "keras-momentum"
    severity = Severity.ERROR
    fixable = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    triggers = (b"momentum",)
    message = (
        "`momentum={value}` follows the Keras convention (weight of the old statistics); "
        "PyTorch's momentum is the weight of the new batch, so the running statistics "
        "will follow only the last few batches"
    )
    hint = "{advice}"

    def visit_Call(self, node: cst.Call) -> None:
        if layer := _batch_norm_class(self, node.func):
            self._check_layer(node, layer, shift=0)
        elif self.ctx.names.matches(node.func, torch_api.FUNCTIONAL_BATCH_NORM):
            running_mean = argument(node, "running_mean", 1)
            if running_mean is not None and _is_none(running_mean.value):
                return  # no running statistics for the momentum to update
            self._check(argument(node, "momentum", torch_api.FUNCTIONAL_MOMENTUM_POSITION))
        elif layer := _partial_batch_norm(self, node):
            # partial(BN, num_features, eps, momentum): positions shift by one.
            self._check_layer(node, layer, shift=1)

    def _check_layer(self, node: cst.Call, layer: str, shift: int) -> None:
        first = _first_position(layer, shift)
        if not _keeps_running_stats(node, first):
            return  # momentum only weighs running statistics, which this layer does not keep
        self._check(argument(node, "momentum", torch_api.BATCH_NORM_MOMENTUM_POSITION + first))

    def visit_Assign(self, node: cst.Assign) -> None:
        # `m.momentum = 0.99` inside `if isinstance(m, nn.BatchNorm2d):`
        for target in node.targets:
            attribute = target.target
            if not isinstance(attribute, cst.Attribute) or attribute.attr.value != "momentum":
                continue
            owner = dotted_name(attribute.value)
            if owner is not None and _guarded_as_batch_norm(self, owner, node):
                self._check_value(node.value)

    def _check(self, arg: cst.Arg | None) -> None:
        if arg is not None:
            self._check_value(arg.value)

    def _check_value(self, value_node: cst.BaseExpression) -> None:
        value = number(value_node)
        # 0.5 weighs old and new alike in both conventions; 1 (only the last batch) is a
        # deliberate choice with no Keras counterpart, like `None` (a cumulative average).
        if value is None or not KERAS_MOMENTUM_THRESHOLD < value < 1:
            return
        replacement = _complement(value)
        written = self.ctx.code_for(value_node)
        if 0 < float(replacement) < 1:
            advice = f"use `momentum={replacement}` (1 - {written}); PyTorch's default is 0.1"
            fix = NodeFix(
                Applicability.UNSAFE,
                f"Replace `{written}` with `{replacement}`",
                (Replace(value_node, replacement),),
            )
        else:
            # 1 - m as written would be 0: a momentum of 0 never updates the running
            # statistics, which is worse than the Keras value.
            advice = (
                f"no fix is offered: 1 - {written} rounds to 0, and `momentum=0` would freeze "
                "the running statistics; use PyTorch's default 0.1, or a small value such as "
                "0.001 for slow statistics"
            )
            fix = None
        self.report(value_node, value=written, advice=advice, fix=fix)


@register
class MomentumAsEps(Rule):
    """A BatchNorm eps that is not a small number: often a momentum passed by position."""

    code = "BN404"
    name = "momentum-as-eps"
    severity = Severity.ERROR
    fixable = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    triggers = (b"BatchNorm", b"batch_norm", b".eps =")
    message = "{what}, so BatchNorm divides each channel by sqrt(var + {eps}){effect}"
    hint = "{advice}"

    def visit_Call(self, node: cst.Call) -> None:
        if layer := _batch_norm_class(self, node.func):
            self._check_layer(node, layer, 0)
        elif self.ctx.names.matches(node.func, torch_api.FUNCTIONAL_BATCH_NORM):
            self._check(node, argument(node, "eps", _FUNCTIONAL_EPS_POSITION), None, None)
        elif layer := _partial_batch_norm(self, node):
            self._check_layer(node, layer, 1)

    def _check_layer(self, node: cst.Call, layer: str, shift: int) -> None:
        first = _first_position(layer, shift)
        features = None
        if layer not in torch_api.LAZY_BATCH_NORMS:
            features = argument(node, "num_features", shift)
        self._check(node, argument(node, "eps", _EPS_POSITION + first), features, layer)

    def _check(
        self, node: cst.Call, eps: cst.Arg | None, features: cst.Arg | None, layer: str | None
    ) -> None:
        if eps is None:
            return
        value = number(eps.value)
        written = self.ctx.code_for(eps.value)
        positional = eps.keyword is None
        short = (layer or "batch_norm").rpartition(".")[2]
        if value is not None:
            if value < LARGE_EPS:
                return
            if positional:
                what = (
                    f"`{written}` is passed by position as `eps` of `{short}` (its second "
                    "parameter), not as `momentum`"
                )
            else:
                what = f"`eps={written}` is large"
            effect = (
                ", which flattens its normalization: small-variance channels are barely rescaled"
            )
        elif positional and (
            (features is not None and _same_expression(self, features.value, eps.value))
            or "momentum" in (dotted_name(eps.value) or "").lower()
        ):
            what = (
                f"`{written}` is passed by position as `eps` of `{short}` (its second "
                "parameter), where a small constant belongs"
            )
            effect = ", not by the batch's standard deviation"
        else:
            return
        fix = self._fix(node, eps, value) if positional and layer is not None else None
        if value is None and "momentum" not in written.lower():
            advice = f"pass `{written}` once, as `num_features`: the second parameter is eps"
        elif fix is not None:
            advice = (
                f"if `{written}` is a Keras momentum, pass `momentum={_complement(value or 0)}` "
                "(PyTorch's convention) and leave eps at its default 1e-5"
            )
        else:
            advice = "leave `eps` at its default 1e-5 (or a small value such as 1e-3)"
            if positional:
                advice += " and pass a momentum by keyword: `momentum=...`"
        self.report(
            eps.value,
            what=what,
            eps=written,
            effect=effect,
            advice=advice,
            fix=fix,
        )

    def _fix(self, node: cst.Call, eps: cst.Arg, value: float | int | None) -> NodeFix | None:
        """`BatchNorm2d(C, 0.8)` -> `BatchNorm2d(C, momentum=0.2)` when 0.8 is a Keras momentum
        and nothing positional follows it; otherwise the intent is not clear enough."""
        if value is None or value not in _KERAS_MOMENTA:
            return None
        if argument(node, "momentum") is not None:
            return None
        index = next(i for i, arg in enumerate(node.args) if arg is eps)
        if any(arg.keyword is None for arg in node.args[index + 1 :]):
            return None
        replacement = _complement(value)
        written = self.ctx.code_for(eps.value)
        return NodeFix(
            Applicability.UNSAFE,
            f"Pass the Keras momentum {written} as PyTorch's `momentum={replacement}` "
            "instead of as eps",
            # The whole argument: `(0.9)` spans its parentheses too.
            (Replace(eps, f"momentum={replacement}"),),
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        # `m.eps = 0.9` inside `if isinstance(m, nn.BatchNorm2d):`
        for target in node.targets:
            attribute = target.target
            if not isinstance(attribute, cst.Attribute) or attribute.attr.value != "eps":
                continue
            owner = dotted_name(attribute.value)
            value = number(node.value)
            if owner is None or value is None or value < LARGE_EPS:
                continue
            if _guarded_as_batch_norm(self, owner, node):
                self.report(
                    node.value,
                    what=f"`{self.ctx.code_for(attribute)} = {self.ctx.code_for(node.value)}` is large",
                    eps=self.ctx.code_for(node.value),
                    effect=(
                        ", which flattens its normalization: small-variance channels are "
                        "barely rescaled"
                    ),
                    advice="keep `eps` small (PyTorch's default is 1e-5, Keras' 1e-3)",
                )


def _same_expression(rule: Rule, left: cst.BaseExpression, right: cst.BaseExpression) -> bool:
    return "".join(rule.ctx.code_for(left).split()) == "".join(rule.ctx.code_for(right).split())


_HALF_DTYPES = frozenset({"torch.float16", "torch.half", "torch.bfloat16"})
_HALF_METHODS = frozenset({"half", "bfloat16"})


def _half_cast(rule: Rule, node: cst.Call) -> str | None:
    """`half()`, `bfloat16()`, or `to(...)` with a 16-bit float dtype: the dtype written."""
    func = node.func
    if not isinstance(func, cst.Attribute):
        return None
    if func.attr.value in _HALF_METHODS and not node.args:
        return f"{func.attr.value}()"
    if func.attr.value != "to":
        return None
    for arg in node.args:
        if arg.keyword is None or arg.keyword.value == "dtype":
            dtype = rule.ctx.names.matches(arg.value, _HALF_DTYPES)
            if dtype is not None:
                return (
                    f"to({rule.ctx.code_for(arg.value)})"
                    if arg.keyword is None
                    else f"to(dtype={rule.ctx.code_for(arg.value)})"
                )
    return None


@register
class HalfPrecisionNorm(Rule):
    """A model with BatchNorm cast to float16/bfloat16 and then trained."""

    code = "BN402"
    name = "half-precision-norm"
    severity = Severity.WARNING
    # Whether the model holds BatchNorm may take the project index (a class of another
    # module), so the answer does not depend on which other rules a run selects.
    needs_project = True
    triggers = (b".half(", b"float16", b"bfloat16", b"torch.half")
    message = (
        "`{model}.{cast}` casts BatchNorm's weights and running statistics to 16 bits before "
        "training, where the batch variance is imprecise and may overflow"
    )
    hint = "keep `{model}` in float32 and train under `torch.autocast` with a `GradScaler`"

    def visit_Call(self, node: cst.Call) -> None:
        cast = _half_cast(self, node)
        if cast is None:
            return
        assert isinstance(node.func, cst.Attribute)
        receiver = node.func.value
        name = dotted_name(receiver)
        if name is None:
            parent = self.ctx.parent(node)
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
                name = dotted_name(parent.targets[0].target)
        if name is None:
            return
        training = self.ctx.training
        if name not in {m.name for m in training.trained_models}:
            return
        scopes = self.ctx.scopes(node)
        if training.has_batch_norm(receiver, scopes) is not True:
            return
        if not training.training_step_follows(node):
            return
        self.report(node, model=name, cast=cast)


_SAVERS = frozenset({"torch.save", "safetensors.torch.save_file", "safetensors.torch.save_model"})
_PARAMETER_METHODS = frozenset({"parameters", "named_parameters"})
_CONTAINERS = frozenset({"list", "dict", "tuple", "OrderedDict", "collections.OrderedDict"})


def _parameters_call(expr: cst.BaseExpression) -> cst.Call | None:
    """The `model.parameters()` a checkpoint value is built from, unfiltered; else None.

    Matches the call itself, `list(...)`/`dict(...)` of it, an unfiltered comprehension over
    it, and a dict literal holding one of those; a filtered comprehension (trainable
    parameters only, an adapter checkpoint) is deliberate and not matched.
    """
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PARAMETER_METHODS:
            return expr
        container = dotted_name(func)
        if container in _CONTAINERS and len(expr.args) == 1 and not expr.args[0].keyword:
            return _parameters_call(expr.args[0].value)
        return None
    if isinstance(expr, cst.ListComp | cst.DictComp | cst.GeneratorExp):
        generator = expr.for_in
        if generator.ifs or generator.inner_for_in is not None:
            return None
        iterable = generator.iter
        if (
            isinstance(iterable, cst.Call)
            and dotted_name(iterable.func) == "enumerate"
            and iterable.args
        ):
            iterable = iterable.args[0].value
        return _parameters_call(iterable)
    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.DictElement):
                found = _parameters_call(element.value)
                if found is not None:
                    return found
    return None


@register
class RunningStatsDropped(Rule):
    """A checkpoint of parameters only, or a `strict=False` load whose skipped keys are ignored."""

    code = "BN403"
    name = "running-stats-dropped"
    severity = Severity.WARNING
    # Whether the model holds BatchNorm may take the project index (a class of another
    # module), so the answer does not depend on which other rules a run selects.
    needs_project = True
    # A `strict=False` load, or a saver (`torch.save`, `save_file`) and `.parameters(`.
    trigger_pattern = rb"load_state_dict|(?s:\A(?=.*?parameters\().*?save)"
    message = "{what}, so BatchNorm's `running_mean`/`running_var` {effect}"
    hint = "{remedy}"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.names.matches(node.func, _SAVERS) is None or not node.args:
            return
        saved = node.args[0].value
        scopes = self.ctx.scopes(node)
        if isinstance(saved, cst.Name):
            value = self.ctx.batch_sizes.assigned_value(saved.value, scopes)
            if value is None:
                return
            saved = value
        parameters = _parameters_call(saved)
        if parameters is None:
            return
        assert isinstance(parameters.func, cst.Attribute)
        owner = parameters.func.value
        if self.ctx.training.has_batch_norm(owner, scopes) is False:
            return
        written = self.ctx.code_for(parameters)
        self.report(
            node,
            what=f"the checkpoint is built from `{written}`, which leaves out buffers",
            effect="would be lost",
            remedy=f"save `{self.ctx.code_for(owner)}.state_dict()` instead",
        )

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self._check_load(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        # `_ = model.load_state_dict(state, strict=False)` discards the result on purpose.
        target = node.targets[0].target if len(node.targets) == 1 else None
        if (
            isinstance(target, cst.Name)
            and target.value == "_"
            and isinstance(node.value, cst.Call)
        ):
            self._check_load(node.value)

    def _check_load(self, call: cst.Call) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "load_state_dict":
            return
        strict = argument(call, "strict", 1)
        if strict is None or boolean(strict.value) is not False:
            return
        scopes = self.ctx.scopes(call)
        # Partial loading is a deliberate design in adapters and library loaders: only a
        # model known to hold BatchNorm has running statistics to lose here.
        if self.ctx.training.has_batch_norm(func.value, scopes) is not True:
            return
        receiver = self.ctx.code_for(func.value)
        self.report(
            call,
            what=f"`{receiver}.load_state_dict(..., strict=False)` ignores the keys it skipped",
            effect="may be missing without a word",
            remedy=(
                "check the result: `missing, unexpected = "
                f"{receiver}.load_state_dict(..., strict=False)` and fail on missing buffers"
            ),
        )
