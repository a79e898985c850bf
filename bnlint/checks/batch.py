"""BN3xx: batch sizes and distributed training of models with BatchNorm."""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from bnlint.analysis.batch_size import Value
from bnlint.analysis.calls import argument, boolean, has_star_args
from bnlint.analysis.distributed import sync_batch_norm
from bnlint.analysis.edits import argument_insertion
from bnlint.analysis.loaders import DDP, Role
from bnlint.analysis.names import dotted_name
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import NodeFix, Replace, Rule, register

# DataLoader(dataset, batch_size=1, ...): `batch_size` is the second positional parameter.
_BATCH_SIZE_POSITION = 1
_DROP_LAST_POSITION = 8


def _origin(value: Value) -> str:
    return f" ({value.origin})" if value.origin else ""


def _source_steps(value: Value) -> list[tuple[cst.CSTNode, str]]:
    """Where a batch size is written, when it is not a literal in place."""
    if value.node is None or not value.origin:
        return []
    if isinstance(value.node, cst.Call):
        # The call that loads the config file the value is read from.
        return [(value.node, f"the batch size is {value.origin}, {value.value}, read here")]
    return [(value.node, f"the batch size is {value.origin}, {value.value}")]


def _model_steps(rule: Rule, model: str) -> list[tuple[cst.CSTNode, str]]:
    """Where `model` is shown to train (its optimizer, or its `.train()` call)."""
    for trained in rule.ctx.training.trained_models:
        if trained.name == model and trained.node is not None:
            return [(trained.node, f"`{model}`, which has BatchNorm, is trained here")]
    return []


def _accumulation(identifier: str | None) -> str:
    if identifier is None:
        return ""
    return f"; gradient accumulation (`{identifier}`) does not enlarge the batch BatchNorm sees"


def _loader_batch_size(rule: Rule, call: cst.Call) -> tuple[cst.CSTNode, Value] | None:
    """The anchor and certain value of a loader's batch size (DataLoader's default is 1)."""
    if argument(call, "batch_sampler") is not None:
        return None
    arg = argument(call, "batch_size", _BATCH_SIZE_POSITION)
    if arg is None:
        positional = [a for a in call.args if a.keyword is None]
        plain = [a for a in positional if not a.star]
        spread = any(a.star == "**" for a in call.args)
        if spread and not any(a.star == "*" for a in call.args) and len(plain) <= 1:
            # `DataLoader(ds, **loader_args)` with `loader_args = dict(batch_size=...)`.
            scopes = rule.ctx.scopes(call)
            passed = rule.ctx.batch_sizes.spread_keyword(call, "batch_size", scopes)
            if passed is None:
                return None
            return (passed.node if passed.node is not None else call.func), passed
        if has_star_args(call) or len(positional) > _BATCH_SIZE_POSITION:
            return None
        return call.func, Value(1, "DataLoader's default")
    scopes = rule.ctx.scopes(call)
    value = rule.ctx.batch_sizes.resolve(arg.value, scopes)
    return None if value is None else (arg.value, value)


def _training_loader(rule: Rule, call: cst.Call) -> str | None:
    """The BatchNorm model a training loader feeds, when all of that is certain."""
    training = rule.ctx.training
    if not training.is_dataloader(call) or training.role(call) is not Role.TRAIN:
        return None
    function = rule.ctx.enclosing(call, cst.FunctionDef)
    if function is not None and function.name.value == "train_dataloader":
        cls = rule.ctx.enclosing(call, cst.ClassDef)
        if cls is not None and training.class_has_batch_norm(cls.name.value):
            return cls.name.value
    return training.trained_batch_norm_model()


@register
class TinyBatch(Rule):
    """A training batch size below `min-batch-size` for a model with BatchNorm."""

    code = "BN301"
    name = "tiny-batch"
    severity = Severity.WARNING
    # Whether the model holds BatchNorm may take the project index (a class of another
    # module), so the answer does not depend on which other rules a run selects.
    needs_project = True
    triggers = (b"DataLoader",)
    message = (
        "`{model}` has BatchNorm and trains with batches of {size}{origin}, below {minimum}: "
        "{effect}{accumulation}"
    )
    hint = (
        "use batches of at least {minimum}, or replace BatchNorm with GroupNorm, "
        "SyncBatchNorm across devices, or frozen BatchNorm"
    )

    def visit_Call(self, node: cst.Call) -> None:
        model = _training_loader(self, node)
        if model is None:
            return
        found = _loader_batch_size(self, node)
        if found is None:
            return
        anchor, value = found
        minimum = self.ctx.settings.min_batch_size
        if not 0 < value.value < minimum:
            return
        if value.value == 1:
            effect = "each sample is normalized by its own statistics, so training is meaningless or crashes"
        else:
            effect = "batch mean and variance are too noisy to normalize with"
        self.report(
            anchor,
            severity=Severity.ERROR if value.value == 1 else None,
            model=model,
            size=str(value.value),
            origin=_origin(value),
            minimum=str(minimum),
            effect=effect,
            accumulation=_accumulation(self.ctx.batch_sizes.accumulation),
            related=self._steps(node, anchor, value, model),
        )

    def _steps(
        self, loader: cst.Call, anchor: cst.CSTNode, value: Value, model: str
    ) -> list[tuple[cst.CSTNode, str]]:
        """Where the batch size is written, the loader that takes it when the finding is
        anchored elsewhere (at an argparse default, in a spread dict), and the model."""
        steps = [step for step in _source_steps(value) if step[0] is not anchor]
        inside = anchor is loader.func or any(anchor is arg.value for arg in loader.args)
        if not inside:
            name = self.ctx.training.loader_name(loader)
            shown = f"`{name}`" if name else "this DataLoader"
            steps.append((loader, f"{shown} trains with batches of {value.value}"))
        return steps + _model_steps(self, model)


@register
class LastBatchOfOne(Rule):
    """A training loader of a BatchNorm model without `drop_last=True`."""

    code = "BN302"
    name = "last-batch-of-one"
    severity = Severity.INFO
    # Whether the model holds BatchNorm may take the project index (a class of another
    # module), so the answer does not depend on which other rules a run selects.
    needs_project = True
    default_enabled = False
    fixable = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    triggers = (b"DataLoader",)
    message = (
        "`{loader}` trains `{model}`, which has BatchNorm, without `drop_last=True`: "
        "a last batch of one sample may be normalized by itself, which crashes only where "
        "the BatchNorm input has no spatial extent (a Linear head, BatchNorm1d on features)"
    )
    hint = "pass `drop_last=True`"

    def visit_Call(self, node: cst.Call) -> None:
        model = _training_loader(self, node)
        if model is None or argument(node, "batch_sampler") is not None:
            return
        drop_last = argument(node, "drop_last", _DROP_LAST_POSITION)
        if drop_last is None and any(arg.star == "**" for arg in node.args):
            return
        if drop_last is not None and boolean(drop_last.value) is not False:
            return
        found = _loader_batch_size(self, node)
        if found is not None and found[1].value == 1:
            return  # every batch is a single sample: BN301's finding, not this one
        loader = self.ctx.training.loader_name(node) or "DataLoader(...)"
        self.report(node, model=model, loader=loader, fix=self._fix(node, drop_last))

    def _fix(self, node: cst.Call, drop_last: cst.Arg | None) -> NodeFix | None:
        if drop_last is not None:
            change = Replace(drop_last.value, "True")
        else:
            insertion = argument_insertion(node, self.ctx.code_for, "drop_last=True")
            if insertion is None:
                return None
            change = Replace(*insertion)
        return NodeFix(Applicability.UNSAFE, "Pass `drop_last=True`", (change,))


@register
class NoSyncbnSmallBatch(Rule):
    """DistributedDataParallel over a BatchNorm model with a small per-device batch, no SyncBatchNorm."""

    code = "BN303"
    name = "no-syncbn-small-batch"
    severity = Severity.WARNING
    # Whether the model holds BatchNorm may take the project index (a class of another
    # module), so the answer does not depend on which other rules a run selects.
    needs_project = True
    triggers = (b"DistributedDataParallel",)
    options: ClassVar[dict[str, Any]] = {"per-device-batch-size": 16}
    message = (
        "`{model}` has BatchNorm and each device trains on batches of {size}{origin} "
        "{syncbn}, so every device normalizes with its own small batch{accumulation}"
    )
    hint = "{advice}"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.names.matches(node.func, DDP) is None or not node.args:
            return
        model_arg = argument(node, "module", 0)
        if model_arg is None:
            return
        sync = sync_batch_norm(self.ctx)
        if sync.converts and sync.opt_in is None:
            return
        scopes = self.ctx.scopes(node)
        if self.ctx.training.has_batch_norm(model_arg.value, scopes) is not True:
            return
        found = self._smallest_training_batch()
        threshold = int(self.option("per-device-batch-size"))
        if found is None or not 0 < found[0].value < threshold:
            return
        smallest, steps = found
        model = dotted_name(model_arg.value) or self.ctx.code_for(model_arg.value)
        self.report(
            node,
            model=model,
            size=str(smallest.value),
            origin=_origin(smallest),
            syncbn=(
                f"with SyncBatchNorm only behind `{sync.opt_in}`, which is off by default"
                if sync.opt_in
                else "without SyncBatchNorm"
            ),
            accumulation=_accumulation(self.ctx.batch_sizes.accumulation),
            advice=(
                f"run with `{sync.opt_in}`, or convert by default"
                if sync.opt_in
                else f"convert it with `nn.SyncBatchNorm.convert_sync_batchnorm({model})`"
            )
            + " before wrapping it in DistributedDataParallel",
            related=steps,
        )

    def _split_total(self, expr: cst.BaseExpression, scopes: list[cst.CSTNode]) -> Value | None:
        """`total // world_size` with a known total: each device gets at most the total.

        >>> `args.batch_size // WORLD_SIZE` with `--batch-size` default 16 -> at most 8
        """
        if (
            isinstance(expr, cst.Call)
            and dotted_name(expr.func) == "int"
            and len(expr.args) == 1
            and not expr.args[0].star
        ):
            expr = expr.args[0].value
        if not (
            isinstance(expr, cst.BinaryOperation)
            and isinstance(expr.operator, cst.FloorDivide | cst.Divide)
        ):
            return None
        total = self.ctx.batch_sizes.resolve(expr.left, scopes)
        if total is None or total.value < 2:
            return None
        # DistributedDataParallel runs two or more processes: each gets half the total at most.
        divisor = self.ctx.code_for(expr.right)
        return Value(
            total.value // 2,
            f"at most: {total.value} from {total.origin or 'the total'} divided by `{divisor}`, "
            "on two or more devices",
            # The total is where the value is written; the division is the loader's argument.
            total.node if total.origin else None,
        )

    def _smallest_training_batch(self) -> tuple[Value, list[tuple[cst.CSTNode, str]]] | None:
        """The smallest per-device training batch, and the steps that explain it."""
        training = self.ctx.training
        values: list[tuple[Value, list[tuple[cst.CSTNode, str]]]] = []
        for loader in training.loaders:
            if training.role(loader) is not Role.TRAIN:
                continue
            arg = argument(loader, "batch_size", _BATCH_SIZE_POSITION)
            if arg is None:
                continue
            scopes = training.index.call_scopes.get(loader, ())
            value = self.ctx.batch_sizes.resolve(arg.value, list(scopes))
            split = value is None
            if value is None:
                value = self._split_total(arg.value, list(scopes))
            if value is None:
                return None  # one loader's batch is unknown: its model may be the wrapped one
            name = training.loader_name(loader)
            shown = f"`{name}`" if name else "the training DataLoader"
            steps: list[tuple[cst.CSTNode, str]] = []
            if split:
                if value.node is not None:
                    steps.append((value.node, "the total batch size is written here"))
                split_as = self.ctx.code_for(arg.value)
                used = f"{shown} gives each device `{split_as}`, at most {value.value}"
            else:
                steps = _source_steps(value)
                used = f"{shown} gives each device batches of {value.value}"
            values.append((value, [*steps, (loader, used)]))
        return min(values, key=lambda found: found[0].value) if values else None
