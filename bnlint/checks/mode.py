"""BN1xx: the train/eval mode of models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis.calls import boolean
from bnlint.analysis.contents import contains
from bnlint.analysis.intent import Purpose, is_training_step
from bnlint.analysis.models import ModelFacts, model_key
from bnlint.analysis.modes import Fact
from bnlint.analysis.names import dotted_name
from bnlint.analysis.torch_api import BATCH_NORM
from bnlint.analysis.tri import Tri
from bnlint.diagnostics import Applicability, FixAvailability, Severity
from bnlint.registry import InsertBefore, NodeFix, Replace, Rule, register

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext
    from bnlint.analysis.project import FunctionFacts

_MODE_METHODS = frozenset({"eval", "train"})
# Methods that never run a forward pass (skipped before any analysis is asked).
_NOT_FORWARD = frozenset(
    {"eval", "train", "to", "cuda", "cpu", "item", "size", "view", "append", "format", "get"}
)


@register
class ModeMethodNotCalled(Rule):
    """`model.eval` or `model.train` written as a statement without the call."""

    code = "BN105"
    name = "mode-method-not-called"
    severity = Severity.ERROR
    fixable = FixAvailability.ALWAYS
    fix_safety = "safe"
    # A bare `x.eval` / `x.train` ends its line (perhaps before a comment or a `;`).
    trigger_pattern = rb"\.(?:eval|train)[ \t]*(?:[#;\r\n]|$)"
    message = "`{expression}` is never called, so `{model}` stays in its current mode"
    hint = "call it: `{expression}()`"

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if not isinstance(value, cst.Attribute) or value.attr.value not in _MODE_METHODS:
            return
        expression = dotted_name(value)
        if expression is None:
            return
        # `torch.eval`-style names from imported modules are not models.
        if self.ctx.names.qualified_name(value.value) is not None:
            return
        # The method's name takes the call: inside the attribute's own parentheses, if any
        # (`(m.eval)` -> `(m.eval())`), and whatever lines the attribute spans.
        method = value.attr
        self.report(
            value,
            expression=expression,
            model=dotted_name(value.value) or expression,
            fix=NodeFix(
                Applicability.SAFE,
                f"Call `{expression}()`",
                (Replace(method, f"{method.value}()"),),
            ),
        )


def _statement_for_insert(ctx: FileContext, at: cst.CSTNode) -> cst.CSTNode | None:
    """The statement holding `at` when a new statement can go right before it."""
    chain = ctx.chain(at)
    for index, node in enumerate(chain):
        if isinstance(node, cst.SimpleStatementSuite):
            return None
        if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
            parent = chain[index + 1] if index + 1 < len(chain) else None
            if not isinstance(parent, cst.IndentedBlock | cst.Module):
                return None
            # A decorated definition starts at its first decorator: a statement inserted
            # between a decorator and its `def` does not parse.
            decorators = getattr(node, "decorators", ())
            return decorators[0] if decorators else node
    return None


@register
class MissingEval(Rule):
    """A model that may be in training mode is run for evaluation or inference."""

    code = "BN101"
    needs_project = True
    name = "missing-eval"
    severity = Severity.ERROR
    fixable = FixAvailability.SOMETIMES
    fix_safety = "unsafe"
    # The contexts BN101 knows: grad-free blocks, eval-named functions (words split as
    # `is_eval_name` does, so any case), checkpoint inference, single unsqueezed samples,
    # loops over a loader named for testing or validation.
    trigger_pattern = (
        rb"no_grad|inference_mode|set_grad_enabled|load_state_dict|torch\.load"
        rb"|unsqueeze\(\s*0\s*\)|\[\s*None"
        rb"|def[ \t]+\w*(?i:eval|val|test|predict|infer|serv|scor)"
        rb"|(?i:test|val|valid|eval|dev)_?(?:data_?)?(?:loader|set)|volatile\s*=\s*True"
        rb"|(?i:[\"']val[\"']|[\"']valid[\"']|[\"']validation[\"'])"
    )
    message = "`{model}` may still be in training mode {context} ({reason}), so {effect}"
    hint = "call `{model}.eval()` before {purpose}"

    def _deliberate(self, inside: tuple[int, ...], purpose: Purpose, at: cst.CSTNode) -> bool:
        """A `.train()` written inside the evaluation context itself (Monte-Carlo dropout,
        a test of training-mode behaviour) is on purpose."""
        if purpose.node is not None:
            return id(purpose.node) in inside
        function = self.ctx.enclosing(at, cst.FunctionDef)
        return function is not None and id(function) in inside

    def _trains_near(self, switch: cst.CSTNode | None) -> bool:
        """Whether the function that calls this `train()` also trains (else the `train()`
        is there for the evaluation: Monte-Carlo dropout)."""
        if switch is None:
            return True
        scope: cst.CSTNode = self.ctx.enclosing(switch, cst.FunctionDef) or self.ctx.module
        return self.ctx.intent.trains_within(scope)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _NOT_FORWARD:
            return
        if ctx.names.qualified_name(node.func) is not None:
            return  # a library function (`torch.cat`, `F.relu`), never a model's forward pass
        purpose = ctx.intent.inference_purpose(node)
        single = purpose is None and ctx.intent.single_sample(node)
        if (
            single
            and not ctx.intent.in_training_step(node)
            and not ctx.intent.samples_actions(node)
        ):
            purpose = Purpose("on a single unsqueezed sample", "predicting")
        model = None
        if purpose is None and ctx.intent.file_loads_weights() and not ctx.intent.file_trains():
            model = ctx.models.model_called_by(node)
            if model is not None:
                purpose = ctx.intent.checkpoint_inference(node, model.key)
        if purpose is None:
            return
        model = model or ctx.models.model_called_by(node)
        if model is None or not model.has_mode_dependent_layers:
            return
        fact = ctx.modes.may_be_training(model.key, at=node)
        if fact is None:
            return
        if fact.assumed and not purpose.context.startswith(("under", "in `")):
            return
        if fact.inside and (
            ctx.intent.in_test_module()
            or (
                _dropout_only(model)
                and (
                    self._deliberate(fact.inside, purpose, node) or not self._trains_near(fact.node)
                )
            )
        ):
            return  # a test of training-mode behaviour, or Monte-Carlo dropout
        self.report(
            node,
            model=model.key,
            context=purpose.context,
            reason=fact.reason,
            effect=model.training_effect(),
            purpose=purpose.purpose,
            fix=self._fix(node, model.key, purpose),
            related=_training_path(ctx, model.key, fact, node, purpose),
        )

    def _fix(self, node: cst.Call, key: str, purpose: Purpose) -> NodeFix | None:
        """`key.eval()` where the model is prepared for evaluation: before the evaluation
        context, or before the loop over the items it evaluates (never once per item); and
        `key.train()` at the top of a training loop the `eval()` would otherwise carry into."""
        ctx = self.ctx
        if ctx.modes.bare_mode_attribute(key, node) or not purpose.one_call_fixes:
            # BN105 calls the bare `key.eval` already: one `eval()` is enough. A loop over
            # phases needs `train()` or `eval()` by phase, which is for the author to write.
            return None
        anchor: cst.CSTNode | None = purpose.node or ctx.intent.evaluation_loop_start(node, key)
        anchor = anchor or _statement_for_insert(ctx, node)
        if anchor is None:
            return None
        edits: list[InsertBefore] = [InsertBefore(anchor, f"{key}.eval()")]
        title = f"Insert `{key}.eval()`"
        loop = ctx.intent.training_loop_around(anchor, key)
        if loop is not None:
            body = loop.body
            if not isinstance(body, cst.IndentedBlock) or not body.body:
                return None
            edits.insert(0, InsertBefore(body.body[0], f"{key}.train()"))
            title += f" and `{key}.train()` at the top of the training loop"
        return NodeFix(Applicability.UNSAFE, title, tuple(edits))


def _dropout_only(model: ModelFacts) -> bool:
    """A `train()` inside an evaluation is Monte-Carlo dropout only on a model known to hold
    no BatchNorm, or known to hold Dropout where BatchNorm is not known: on BatchNorm it
    normalizes every evaluation batch with its own statistics."""
    if model.batch_norm is Tri.NO:
        return True
    return model.batch_norm is Tri.UNKNOWN and model.dropout is Tri.YES


def _common_loop(ctx: FileContext, a: cst.CSTNode, b: cst.CSTNode) -> cst.For | cst.While | None:
    """The innermost loop around both `a` and `b`: the one whose next iteration joins them."""
    around_a = {id(node) for node in ctx.chain(a)}
    for node in ctx.chain(b)[1:]:
        if isinstance(node, cst.For | cst.While) and id(node) in around_a:
            return node
    return None


def _training_path(
    ctx: FileContext, key: str, fact: Fact, at: cst.CSTNode, purpose: Purpose | None = None
) -> list[tuple[cst.CSTNode, str]]:
    """How `key` reaches `at` (an evaluation, an export) in training mode, as the mode
    analysis saw it."""
    path: list[tuple[cst.CSTNode, str]] = []
    if fact.node is not None:
        path.append((fact.node, f"{fact.reason}: `{key}` is in training mode from here"))
        path.extend(_loops_between(ctx, key, fact, at))
    if purpose is not None:
        context = purpose.node or _context_function(ctx, purpose, at)
        if context is not None:
            path.append((context, f"`{key}` is then run {purpose.context}"))
    return path


def _loops_between(
    ctx: FileContext, key: str, fact: Fact, at: cst.CSTNode
) -> list[tuple[cst.CSTNode, str]]:
    """The loops between where the mode was set and `at`: the one it is set in and `at` is
    after (the epoch loop), then the one around both (each epoch trains, then evaluates)."""
    assert fact.node is not None
    steps: list[tuple[cst.CSTNode, str]] = []
    same_function = ctx.enclosing(fact.node, cst.FunctionDef) is ctx.enclosing(at, cst.FunctionDef)
    if fact.loop is not None and same_function:
        around_at = {id(node) for node in ctx.chain(at)}
        left = [
            node
            for node in ctx.chain(fact.node)[1:]
            if isinstance(node, cst.For | cst.While) and id(node) not in around_at
        ]
        if left:
            steps.append((left[-1], f"the loop ends with `{key}` still in training mode"))
    loop = _common_loop(ctx, fact.node, at)
    if loop is not None and fact.loop is not None and not steps:
        steps.append((loop, "the loop brings training mode back on its next iteration"))
    elif loop is not None:
        # Set and used in the same iteration of an enclosing loop (`train()` each epoch).
        steps.append(
            (loop, f"each iteration of this loop goes on from there with `{key}` in training mode")
        )
    return steps


def _context_function(ctx: FileContext, purpose: Purpose, at: cst.CSTNode) -> cst.CSTNode | None:
    """The name of the function an "in `evaluate()`" context names, among those around `at`."""
    for node in ctx.chain(at):
        if isinstance(node, cst.FunctionDef) and purpose.context.startswith(
            f"in `{node.name.value}()`"
        ):
            return node.name
    return None


@register
class TrainNotRestored(Rule):
    """A training step is reachable while the model is in eval mode."""

    code = "BN102"
    needs_project = True
    name = "train-not-restored"
    severity = Severity.ERROR
    triggers = (b".eval(", b".train(False", b"train(mode=False")
    message = (
        "`{model}` may be in eval mode at this training step: {reason} on an earlier "
        "iteration is never undone by `{model}.train()`, so {effect}"
    )
    hint = "call `{model}.train()` at the start of each training epoch, inside the loop"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._reported: set[tuple[str, str, int]] = set()

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if is_training_step(node, ctx):
            loop = self._innermost_loop(node)
            if loop is None:
                return
            candidates = self._loop_called(loop)
            self._check(node, candidates, loop)
            return
        self._check_helper(node)

    def _innermost_loop(self, at: cst.CSTNode) -> cst.For | cst.While | None:
        for node in self.ctx.chain(at)[1:]:
            # Type tests, not isinstance(): this runs up every training step's ancestors.
            if type(node) is cst.For or type(node) is cst.While:
                return node
            if type(node) is cst.FunctionDef or type(node) is cst.Lambda:
                return None
        return None

    def _loop_called(self, loop: cst.For | cst.While) -> set[str]:
        return set(self.ctx.values.called_in(loop.body))

    def _check(
        self, node: cst.Call, keys: set[str], loop: cst.For | cst.While | None = None
    ) -> None:
        ctx = self.ctx
        state = ctx.modes.state_at(node)
        if not state:
            return
        for key in sorted(keys):
            fact = ctx.modes.eval_carried_by_loop(key, at=node)
            if fact is None and loop is not None:
                fact = ctx.modes.eval_on_some_iterations(key, at=node, loop=loop)
            if fact is None:
                continue
            model = ctx.models.model_for(_name_expr(key), at=node)
            if model is None or not model.has_mode_dependent_layers:
                continue
            # One finding per model, cause and loop: another training loop is another bug.
            where = id(loop) if loop is not None else fact.loop or 0
            if (key, fact.reason, where) in self._reported:
                continue
            self._reported.add((key, fact.reason, where))
            related: list[tuple[cst.CSTNode, str]] = []
            if fact.node is not None:
                related.append((fact.node, f"{fact.reason} puts `{key}` in eval mode"))
            loop = _common_loop(ctx, fact.node, node) if fact.node is not None else None
            if loop is not None:
                related.append(
                    (loop, f"the loop comes back to this training step with no `{key}.train()`")
                )
            self.report(
                node,
                model=key,
                reason=fact.reason,
                effect=_eval_effect(model),
                related=related,
            )

    def _check_helper(self, node: cst.Call) -> None:
        """`train_one_epoch(model, ...)` in a loop that later calls `model.eval()`."""
        ctx = self.ctx
        name = dotted_name(node.func)
        if name is None or self._innermost_loop(node) is None:
            return
        root, _, method = name.rpartition(".")
        if root not in ("", "self"):
            return
        summary = ctx.project_index.function(method or name)
        if summary is None or not summary.trains:
            return
        offset = 1 if root == "self" else 0
        keys: set[str] = set()
        for index, arg in enumerate(node.args):
            if arg.star or arg.keyword is not None:
                continue
            key = model_key(arg.value)
            if key is None or index + offset >= len(summary.params):
                continue
            param = summary.params[index + offset]
            if param in summary.called and _may_train_in_eval(summary, param):
                keys.add(key)
        if root == "self":
            keys |= {
                k
                for k in summary.called
                if k.startswith("self.") and _may_train_in_eval(summary, k)
            }
        if keys:
            self._check(node, keys)


def _may_train_in_eval(summary: FunctionFacts, key: str) -> bool:
    """The helper's steps may train `key` in the mode its caller left: it neither ends in
    training mode nor sets it before its first step (`train()`, steps, then `eval()` for its
    own validation)."""
    return summary.sets_mode.get(key) != "train" and key not in summary.trains_in_train_mode


def _name_expr(key: str) -> cst.BaseExpression:
    return cst.parse_expression(key)


def _eval_effect(model: ModelFacts) -> str:
    if model.batch_norm is Tri.YES:
        return "BatchNorm stops learning running statistics and trains on stale ones"
    if model.dropout is Tri.YES:
        return "Dropout is off for the rest of training"
    return "any BatchNorm trains on frozen statistics and Dropout is off"


@register
class ExportInTrainMode(Rule):
    """An export, trace or fusion of a model that may be in training mode."""

    code = "BN103"
    needs_project = True
    name = "export-in-train-mode"
    severity = Severity.ERROR
    triggers = (
        b"onnx",
        b"jit.trace",
        b"export",
        b"fuse_modules",
        b"fuse_fx",
        b"tensorrt",
        b"coremltools",
    )
    message = (
        "`{model}` may still be in training mode when `{export}` records it ({reason}), "
        "so the exported graph {effect}"
    )
    hint = "call `{model}.eval()` before exporting"

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        found = ctx.intent.export_call(node)
        if found is None:
            return
        export, expr = found
        model = ctx.models.model_for(expr, at=node)
        if model is None or not model.has_mode_dependent_layers:
            return
        fact = ctx.modes.may_be_training(model.key, at=node)
        if fact is None or fact.assumed:
            return
        effect = (
            "normalizes with batch statistics"
            if model.batch_norm is not Tri.NO
            else "keeps Dropout active"
        )
        if "fuse" in export:
            effect = "cannot be fused (conv-BN fusion is for eval mode only)"
        self.report(
            node,
            model=model.key,
            export=export,
            reason=fact.reason,
            effect=effect,
            related=_training_path(ctx, model.key, fact, node),
        )


@register
class FrozenBnStillUpdating(Rule):
    """Frozen parameters of a part with BatchNorm whose running statistics `train()` updates."""

    code = "BN104"
    needs_project = True
    name = "frozen-bn-still-updating"
    severity = Severity.WARNING
    triggers = (b"requires_grad",)
    message = (
        "`{frozen}` is frozen with `requires_grad=False` but {holds}, and "
        "`{model}.train()` puts it back in training mode, so its running statistics keep "
        "updating with every batch"
    )
    hint = "call `{frozen}.eval()` after `{model}.train()`, or use frozen BatchNorm layers"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "train":
            return
        if node.args and boolean(node.args[0].value) is not True:
            return
        key = model_key(func.value)
        if key is None:
            return
        scan = self.ctx.freezes
        if scan.handles_bn or not scan.frozen:
            return
        model = self.ctx.models.model_for(func.value, at=node)
        if model is None:
            return
        # The model trained here, and the models callers pass for it when it is a parameter
        # (`model.f` frozen in `__main__`, `net.train()` in `train_val(net, ...)`).
        candidates: list[tuple[str, ModelFacts, cst.CSTNode | None]] = [(key, model, None)]
        function = self.ctx.enclosing(node, cst.FunctionDef)
        if function is not None:
            for given, call in self.ctx.values.passed_to(function, key):
                facts = self.ctx.models.model_for(_name_expr(given), at=call)
                if facts is not None:
                    candidates.append((given, facts, call))
        for candidate, candidate_facts, site in candidates:
            if self._check_frozen(node, key, candidate, candidate_facts, site):
                return

    def _check_frozen(
        self,
        node: cst.Call,
        key: str,
        candidate: str,
        model: ModelFacts,
        call: cst.CSTNode | None,
    ) -> bool:
        scan = self.ctx.freezes
        for owner_class, frozen in scan.frozen:
            relative = self._relative(candidate, model, owner_class, frozen)
            if relative is None:
                continue
            shown = f"{candidate}.{relative}" if relative else candidate
            # A frozen part put in eval somewhere stays frozen. The whole model's `eval()`
            # counts only under the condition that freezes it (`if args.weights == "freeze":`),
            # not for a validation phase, which this `train()` undoes for the next steps.
            where = scan.frozen_at.get((owner_class, frozen))
            if any(
                (e == part or e.startswith(part + "."))
                and (e not in (key, candidate) or self._same_condition(scan.evaluated_at[e], where))
                for e in scan.evaluated
                for part in (frozen, shown)
            ):
                continue
            held = self._contains_bn(model, relative)
            holds = "holds BatchNorm"
            if held is Tri.UNKNOWN and relative and model.batch_norm is Tri.YES:
                # The part's class is not visible, but the model holds BatchNorm: the frozen
                # feature extractor is where it usually is.
                held = Tri.YES
                holds = f"is part of `{candidate}`, which holds BatchNorm"
            if held is not Tri.YES:
                continue
            steps = [] if where is None else [(where, f"`{frozen}`'s parameters are frozen here")]
            if call is not None:
                steps.append((call, f"`{candidate}` is passed here as `{key}`"))
            self.report(node, frozen=shown, model=key, holds=holds, related=steps)
            return True
        return False

    def _same_condition(self, calls: list[cst.Call], freeze: cst.CSTNode | None) -> bool:
        """Whether one of `calls` runs under the same `if` test as `freeze` (or both under
        none)."""
        if freeze is None:
            return True
        condition = self.ctx.enclosing(freeze, cst.If)
        wanted = None if condition is None else self.ctx.code_for(condition.test)
        for call in calls:
            around = self.ctx.enclosing(call, cst.If)
            if (None if around is None else self.ctx.code_for(around.test)) == wanted:
                return True
        return False

    @staticmethod
    def _relative(key: str, model: ModelFacts, owner: str | None, frozen: str) -> str | None:
        """The frozen part's path inside the model `key` trains, or None if unrelated."""
        if frozen == key:
            return ""
        if frozen.startswith(key + "."):
            return frozen[len(key) + 1 :]
        reference = model.reference or ""
        if frozen.startswith("self.") and owner and reference.rpartition(".")[2] == owner:
            return frozen[len("self.") :]
        return None

    def _contains_bn(self, model: ModelFacts, path: str) -> Tri:
        if not path:
            return model.batch_norm
        reference = model.reference
        project = self.ctx.project_index
        for attribute in path.split("."):
            if reference is None:
                return Tri.UNKNOWN
            reference = project.attribute_class(reference.rpartition(".")[2], attribute)
        if reference is None:
            return Tri.UNKNOWN
        return contains(reference, BATCH_NORM, project)
