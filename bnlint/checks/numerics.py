"""BN4xx: numerics and state of normalization layers."""

from __future__ import annotations

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.bindings import enclosing_scopes
from bnlint.analysis.calls import argument, boolean, number
from bnlint.analysis.names import dotted_name
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

KERAS_MOMENTUM_THRESHOLD = 0.5


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _complement(value: float) -> str:
    """`1 - m` written as a short literal: 0.99 -> '0.01'."""
    return repr(round(1 - value, 10))


@register
class KerasMomentum(Rule):
    """A BatchNorm momentum of 0.5 or more: a Keras value in PyTorch's opposite convention."""

    code = "BN401"
    name = "keras-momentum"
    severity = Severity.ERROR
    fixable = FixAvailability.ALWAYS
    fix_safety = "unsafe"
    triggers = (b"momentum",)
    message = (
        "`momentum={value}` follows the Keras convention (weight of the old statistics); "
        "PyTorch's momentum is the weight of the new batch, so the running statistics "
        "will follow only the last few batches"
    )
    hint = "use `momentum={replacement}` (1 - {value}); PyTorch's default is 0.1"

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.names
        if layer := names.matches(node.func, torch_api.BATCH_NORMS):
            self._check_layer(node, layer, shift=0)
        elif names.matches(node.func, torch_api.FUNCTIONAL_BATCH_NORM):
            running_mean = argument(node, "running_mean", 1)
            if running_mean is not None and _is_none(running_mean.value):
                return  # no running statistics for the momentum to update
            self._check(argument(node, "momentum", torch_api.FUNCTIONAL_MOMENTUM_POSITION))
        elif names.matches(node.func, torch_api.PARTIAL) and node.args:
            target = node.args[0]
            if target.keyword is None and not target.star:
                layer = names.matches(target.value, torch_api.BATCH_NORMS)
                if layer:
                    # partial(BN, num_features, eps, momentum): positions shift by one.
                    self._check_layer(node, layer, shift=1)

    def _check_layer(self, node: cst.Call, layer: str, shift: int) -> None:
        # Lazy norms infer num_features, so every positional argument comes one earlier.
        first = shift - 1 if layer in torch_api.LAZY_BATCH_NORMS else shift
        tracking = argument(node, "track_running_stats", torch_api.TRACK_STATS_POSITION + first)
        if tracking is not None and boolean(tracking.value) is False:
            return  # momentum only weighs running statistics, which this layer does not keep
        self._check(argument(node, "momentum", torch_api.BATCH_NORM_MOMENTUM_POSITION + first))

    def visit_Assign(self, node: cst.Assign) -> None:
        # `m.momentum = 0.99` inside `if isinstance(m, nn.BatchNorm2d):`
        for target in node.targets:
            attribute = target.target
            if not isinstance(attribute, cst.Attribute) or attribute.attr.value != "momentum":
                continue
            owner = dotted_name(attribute.value)
            if owner is not None and self._guarded_as_batch_norm(owner):
                self._check_value(node.value)

    def _guarded_as_batch_norm(self, owner: str) -> bool:
        """Whether an enclosing `if isinstance(owner, <BatchNorm class>)` guards this line."""
        for ancestor in reversed(self.ctx.ancestors):
            if not isinstance(ancestor, cst.If):
                continue
            test = ancestor.test
            if not (
                isinstance(test, cst.Call)
                and isinstance(test.func, cst.Name)
                and test.func.value == "isinstance"
                and len(test.args) == 2
                and dotted_name(test.args[0].value) == owner
            ):
                continue
            classes = test.args[1].value
            candidates = (
                [element.value for element in classes.elements]
                if isinstance(classes, cst.Tuple)
                else [classes]
            )
            if any(self.ctx.names.matches(c, torch_api.BATCH_NORMS) for c in candidates):
                return True
        return False

    def _check(self, arg: cst.Arg | None) -> None:
        if arg is not None:
            self._check_value(arg.value)

    def _check_value(self, value_node: cst.BaseExpression) -> None:
        value = number(value_node)
        if value is None or not KERAS_MOMENTUM_THRESHOLD <= value <= 1:
            return
        replacement = _complement(value)
        written = self.ctx.code_for(value_node)
        self.report(
            value_node,
            value=written,
            replacement=replacement,
            fix=NodeFix(
                Applicability.UNSAFE,
                f"Replace `{written}` with `{replacement}`",
                (Replace(value_node, replacement),),
            ),
        )


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
        scopes = enclosing_scopes(self.ctx.ancestors)
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
    # A `strict=False` load, or a saver (`torch.save`, `save_file`) and `.parameters(`.
    trigger_pattern = rb"load_state_dict|(?s:\A(?=.*?parameters\().*?save)"
    message = "{what}, so BatchNorm's `running_mean`/`running_var` {effect}"
    hint = "{remedy}"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.names.matches(node.func, _SAVERS) is None or not node.args:
            return
        saved = node.args[0].value
        scopes = enclosing_scopes(self.ctx.ancestors)
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
        scopes = enclosing_scopes(self.ctx.ancestors)
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
