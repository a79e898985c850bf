"""What the code around a node is doing: evaluating, training, exporting, or run by a framework.

`ctx.intent` is the place rules read this from:

    >>> ctx.intent.inference_purpose(call)   # `model(x)` inside `with torch.no_grad():`
    Purpose(context='under `torch.no_grad()`', purpose='evaluating')
    >>> ctx.intent.in_training_step(call)    # inside a loop that calls `loss.backward()`
    True

Inference contexts: `torch.no_grad()` / `torch.inference_mode()` / `set_grad_enabled(False)`
blocks and decorators, functions named for evaluation (evaluate, validate, predict, infer,
serve, score...), and code of a file with no training step that loads a checkpoint. A
gradient-free block inside a training step (pseudo-labels, EMA targets) is not evaluation.
Training steps: `.backward()` (loss, `accelerator`, `scaler.scale(...)`), `optimizer.step()`,
`scaler.step(...)`. Framework-managed code (Lightning hooks, Hugging Face `Trainer`
overrides) switches modes itself. Queries take the node being visited or an ancestor of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, cast

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument, boolean
from bnlint.analysis.names import dotted_name
from bnlint.analysis.values import unwrap
from bnlint.analysis.walk import exact_kinds
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext

_EVAL_WORDS = frozenset(
    {
        "eval",
        "evaluate",
        "evaluation",
        "validate",
        "validation",
        "val",
        "valid",
        "test",
        "predict",
        "prediction",
        "infer",
        "inference",
        "serve",
        "score",
        "scoring",
    }
)
_TRAIN_WORDS = frozenset({"train", "training", "fit", "step", "update", "loss", "backward"})

LIGHTNING_HOOKS = frozenset(
    {
        "validation_step",
        "test_step",
        "predict_step",
        "validation_step_end",
        "test_step_end",
        "validation_epoch_end",
        "test_epoch_end",
        "on_validation_epoch_end",
        "on_validation_epoch_start",
        "on_test_epoch_end",
        "on_test_epoch_start",
        "on_validation_batch_end",
        "on_test_batch_end",
        "on_predict_batch_end",
        "on_predict_epoch_end",
    }
)
TRAINER_HOOKS = frozenset(
    {"evaluate", "predict", "prediction_step", "evaluation_loop", "compute_metrics"}
)
_TRAINER_BASES = frozenset(
    {"transformers.Trainer", "transformers.Seq2SeqTrainer", "transformers.trainer.Trainer"}
)
# Methods whose call anywhere in a file makes it training code for checkpoint inference
# (`loss.backward()`, `optimizer.step()`, `scheduler.step()` alike: any sign of training).
_STEP_METHODS = frozenset({"backward", "step"})
# Kinds the walks up a call's ancestors stop at (tested by type: see `exact_kinds`).
_NESTED_SCOPES = exact_kinds(cst.FunctionDef, cst.Lambda, cst.ClassDef)
_LOOPS_AND_FUNCTIONS = exact_kinds(cst.For, cst.While, cst.FunctionDef)
_LOAD_STATE_DICT = "load_state_dict"
_TORCH_LOAD = "torch.load"


@dataclass(frozen=True)
class Purpose:
    """Why a node counts as inference: where it is, and what the code is doing there."""

    context: str  # "under `torch.no_grad()`", "in `evaluate()`"
    purpose: str  # "evaluating", "predicting" (for "call `model.eval()` before ...")
    # The statement that makes the context, when one does: the `with`, the loop over a test
    # loader, the statement drawing a test batch.
    node: cst.BaseStatement | None = field(default=None, repr=False, compare=False)
    # The statement for `<model>.eval()` when the context has one (`with` blocks, loops
    # over test loaders); False where one `eval()` call cannot be the fix (a loop over
    # phases needs `train()` or `eval()` by phase).
    one_call_fixes: bool = True


def is_eval_name(name: str) -> bool:
    """Whether a function name says it evaluates (and does not also train).

    >>> is_eval_name("validate_epoch"), is_eval_name("train_and_evaluate")
    (True, False)
    """
    words = [w for w in re.split(r"_+|(?<=[a-z])(?=[A-Z])", name.lower()) if w]
    if not words or name.startswith("test"):
        return False
    if any(w in _TRAIN_WORDS for w in words):
        return False
    return any(w in _EVAL_WORDS for w in words)


_EVAL_LOADER = re.compile(
    r"(?:\w+_)?(?:test|val|valid|validation|eval|dev)_?(?:data_?)?(?:loader|set|dataset)s?"
)
# Calls of a policy that acts while it learns: distributions sampled, log-probabilities kept.
_POLICY_CALLS = frozenset(
    {"Categorical", "Normal", "Bernoulli", "MultivariateNormal", "log_prob", "sample"}
)
# Names of the evaluation phase in `for phase in ("train", "val"):` loops.
_EVAL_PHASES = frozenset({"val", "valid", "validation", "eval", "test", "dev"})
# Wrappers whose first argument is the iterable they walk.
_ITERATION_WRAPPERS = frozenset({"enumerate", "iter", "tqdm"})


def _evaluation_loader(iterable: cst.BaseExpression) -> str | None:
    """The loader a `for` walks when its name says it holds test or validation data.

    >>> _evaluation_loader(parse("enumerate(test_loader)")), _evaluation_loader(parse("train_loader"))
    ('test_loader', None)
    """
    while isinstance(iterable, cst.Call) and iterable.args:
        name = dotted_name(iterable.func)
        if name is None or name.rpartition(".")[2] not in _ITERATION_WRAPPERS:
            return None
        iterable = iterable.args[0].value
    name = dotted_name(iterable)
    if name is None or not _EVAL_LOADER.fullmatch(name.rpartition(".")[2].lower()):
        return None
    return name


def _drawn_from_evaluation_loader(statement: cst.CSTNode) -> str | None:
    """`_, data = next(enumerate(test_loader))`, `x, y = next(iter(val_loader))`: the loader."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if not isinstance(small, cst.Assign) or not isinstance(small.value, cst.Call):
            continue
        call = small.value
        if isinstance(call.func, cst.Name) and call.func.value == "next" and call.args:
            loader = _evaluation_loader(call.args[0].value)
            if loader is not None:
                return loader
    return None


def _volatile(node: cst.BaseExpression) -> bool:
    """`Variable(x, volatile=True)`."""
    return isinstance(node, cst.Call) and any(
        arg.keyword is not None
        and arg.keyword.value == "volatile"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "True"
        for arg in node.args
    )


def is_training_step(call: cst.Call, ctx: FileContext | None = None) -> bool:
    """`loss.backward()`, `optimizer.step()`, `scaler.step(opt)`, `accelerator.backward(loss)`.

    >>> is_training_step(parse("opt.step()")), is_training_step(parse("scheduler.step()"))
    (True, False)
    """
    func = call.func
    if ctx is not None and ctx.names.qualified_name(func) in torch_api.FUNCTIONAL_BACKWARD:
        return True
    if not isinstance(func, cst.Attribute):
        return False
    return torch_api.is_training_step(func.attr.value, dotted_name(func.value))


class Intent:
    """Inference, training and framework contexts for one file."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._direct_steps: dict[int, bool] = {}
        self._file_trains: bool | None = None
        self._file_loads: bool | None = None
        self._trains: dict[int, bool] = {}
        self._managed: dict[int, bool] = {}
        self._samples: dict[int, bool] = {}
        self._draws: dict[int, tuple[str, cst.BaseStatement]] | None = None
        self._volatile: dict[int, cst.Call] | None = None
        self._called_names: frozenset[str] | None = None

    def _chain(self, at: cst.CSTNode) -> list[cst.CSTNode]:
        return self.ctx.chain(at)

    # -- grad-free contexts -----------------------------------------------------------

    def grad_free(self, expr: cst.BaseExpression) -> str | None:
        """`torch.no_grad()` -> 'torch.no_grad()'; `set_grad_enabled(False)` too; else None."""
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        qualified = self.ctx.names.qualified_name(func)
        if qualified in torch_api.NO_GRAD:
            return f"{qualified}()"
        if qualified in torch_api.SET_GRAD_ENABLED and call is not None:
            arg = argument(call, "mode", 0)
            if arg is not None and boolean(arg.value) is False:
                return f"{qualified}(False)"
        return None

    def _with_grad_free(self, node: cst.With) -> str | None:
        for item in node.items:
            found = self.grad_free(item.item)
            if found is not None:
                return found
        return None

    def _decorated_grad_free(self, node: cst.FunctionDef) -> str | None:
        for decorator in node.decorators:
            found = self.grad_free(decorator.decorator)
            if found is not None:
                return found
        return None

    # -- training ---------------------------------------------------------------------

    def has_direct_training_step(self, node: cst.CSTNode) -> bool:
        """Whether a loop or function body runs a training step itself (not in a nested loop).

        >>> `for x in loader: ...; loss.backward()` -> True for that loop
        >>> `for epoch in ...: for x in loader: loss.backward()` -> False for the epoch loop
        """
        cached = self._direct_steps.get(id(node))
        if cached is None:
            finder = _StepFinder(self.ctx, node)
            visit_tree(node, finder)
            cached = finder.found
            self._direct_steps[id(node)] = cached
        return cached

    def in_training_step(self, at: cst.CSTNode) -> bool:
        """Whether `at` runs as part of a training step: its innermost loop (or, outside
        loops, its function) runs `backward()` / `optimizer.step()` directly."""
        for node in self._chain(at):
            if isinstance(node, cst.For | cst.While | cst.FunctionDef):
                return self.has_direct_training_step(node)
        return False

    def file_trains(self) -> bool:
        """Whether any call of the file looks like a training step (`x.backward(...)`,
        `x.step(...)`)."""
        if self._file_trains is None:
            self._file_trains = any(
                isinstance(call.func, cst.Attribute) and call.func.attr.value in _STEP_METHODS
                for call in self.ctx.semantic.calls
            )
        return self._file_trains

    def file_loads_weights(self) -> bool:
        """Whether the file loads weights at all (`x.load_state_dict(...)`, `torch.load(...)`):
        else no checkpoint inference."""
        if self._file_loads is None:
            self._file_loads = any(
                (isinstance(call.func, cst.Attribute) and call.func.attr.value == _LOAD_STATE_DICT)
                or self._is_torch_load(call.func)
                for call in self.ctx.semantic.calls
            )
        return self._file_loads

    # -- inference --------------------------------------------------------------------

    def inference_purpose(self, at: cst.CSTNode) -> Purpose | None:
        """Why `at` runs a model for inference, or None.

        >>> `with torch.no_grad(): out = net(x)` in a validation loop -> Purpose('under ...')
        >>> the same block inside a loop that calls `loss.backward()` -> None
        >>> `for images, labels in test_loader: out = net(images)` -> Purpose('in the loop ...')
        """
        return (
            self._declared_purpose(at)
            or self._loader_loop_purpose(at)
            or self._drawn_batch_purpose(at)
            or self._volatile_input_purpose(at)
            or self._phase_loop_purpose(at)
        )

    def _phase_loop_purpose(self, at: cst.CSTNode) -> Purpose | None:
        """`for phase in ("train", "val"):` around a model call that serves both phases: the
        evaluation phase runs it in whatever mode the training phase left."""
        if self.framework_managed(at) or self._in_pytest_function(at):
            return None
        for node in self._chain(at):
            if type(node) in _NESTED_SCOPES:
                return None
            if type(node) is not cst.For or not isinstance(node.iter, cst.List | cst.Tuple):
                continue
            phases = [
                e.value.evaluated_value
                for e in node.iter.elements
                if isinstance(e.value, cst.SimpleString)
            ]
            names = [p for p in phases if isinstance(p, str)]
            evaluation = [p for p in names if p.lower() in _EVAL_PHASES]
            if len(names) >= 2 and evaluation and any(p.lower() == "train" for p in names):
                context = f"in the `{evaluation[0]}` phase of the loop over phases"
                return Purpose(context, "evaluating", one_call_fixes=False)
        return None

    def _drawn_batch_purpose(self, at: cst.CSTNode) -> Purpose | None:
        """A forward pass on a batch drawn with `next(...)` from a loader named for testing
        or validation, in a block that trains nothing: the test batch a training loop scores
        every N steps (`if i % 10 == 0: _, data = next(enumerate(test_loader))`)."""
        draws = self._evaluation_draws()
        if not draws:
            return None  # most files never draw a test batch by hand
        chain = self._chain(at)
        for index, node in enumerate(chain):
            if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
                return None
            if not isinstance(node, cst.IndentedBlock) or index == 0:
                continue
            statement = chain[index - 1]
            drawn = None
            for earlier in node.body:
                if earlier is statement:
                    break
                drawn = draws.get(id(earlier), drawn)
            if drawn is None:
                continue
            owner = chain[index + 1] if index + 1 < len(chain) else None
            if owner is None or self.trains_within(owner):
                return None
            if not self._inside_training(chain[index:]):
                return None  # only the test batch a training loop scores between its steps
            if self.framework_managed(at) or self._in_pytest_function(at):
                return None
            loader, where = drawn
            return Purpose(f"on a batch drawn from `{loader}`", "evaluating", where)
        return None

    def _evaluation_draws(self) -> dict[int, tuple[str, cst.BaseStatement]]:
        """Statements that draw a batch from an evaluation loader with `next(...)`, by id."""
        if self._draws is None:
            self._draws = {}
            for call in self.ctx.semantic.calls:
                if not (isinstance(call.func, cst.Name) and call.func.value == "next"):
                    continue
                statement = self.ctx.enclosing(call, cst.SimpleStatementLine)
                if statement is None:
                    continue
                loader = _drawn_from_evaluation_loader(statement)
                if loader is not None:
                    self._draws[id(statement)] = (loader, statement)
        return self._draws

    def _volatile_input_purpose(self, at: cst.CSTNode) -> Purpose | None:
        """A model run on `Variable(x, volatile=True)`: the grad-free inference of PyTorch
        before 0.4 (the spelling of `no_grad` then)."""
        if not isinstance(at, cst.Call) or not at.args:
            return None
        volatile = self._volatile_calls()
        if not volatile:
            return None  # PyTorch 0.4 and later code never has them
        argument = at.args[0].value
        found = id(argument) in volatile
        if not found and isinstance(argument, cst.Name):
            scope = self.ctx.enclosing(at, cst.FunctionDef)
            for call in volatile.values():
                if self.ctx.enclosing(call, cst.FunctionDef) is not scope:
                    continue
                parent = self.ctx.parent(call)
                found = found or (
                    isinstance(parent, cst.Assign)
                    and any(
                        isinstance(t.target, cst.Name) and t.target.value == argument.value
                        for t in parent.targets
                    )
                )
        if not found or self._in_pytest_function(at):
            return None
        return Purpose("on a `volatile=True` input (grad-free inference)", "evaluating")

    def _volatile_calls(self) -> dict[int, cst.Call]:
        """The `Variable(x, volatile=True)` calls of the file, by id."""
        if self._volatile is None:
            self._volatile = {id(c): c for c in self.ctx.semantic.calls if _volatile(c)}
        return self._volatile

    def trains_within(self, node: cst.CSTNode) -> bool:
        """Whether `node` (a loop, a block) runs a training step anywhere inside."""
        found = self._trains.get(id(node))
        if found is None:
            found = self._trains[id(node)] = _contains_training(self.ctx, node)
        return found

    def training_loop_around(self, at: cst.CSTNode, key: str) -> cst.For | cst.While | None:
        """The innermost loop around `at` that trains and never calls `key.train()` itself:
        an `eval()` put at `at` would carry into its next training steps."""
        for node in self._chain(at)[1:]:
            if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
                return None
            if isinstance(node, cst.For | cst.While) and self.trains_within(node.body):
                code = self.ctx.code_for(node.body)
                return None if f"{key}.train(" in code else node
        return None

    def evaluation_loop_start(self, at: cst.CSTNode, key: str) -> cst.BaseStatement | None:
        """The outermost loop around `at` that trains nothing and does not rebind `key`,
        inside `at`'s function: where `key.eval()` goes once, before the loop, instead of
        once per item."""
        found: cst.BaseStatement | None = None
        for node in self._chain(at)[1:]:
            if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef | cst.Module):
                break
            if isinstance(node, cst.For | cst.While):
                if self.trains_within(node) or _binds(self.ctx, node, key):
                    break
                found = node
        return found

    def _in_pytest_function(self, at: cst.CSTNode) -> bool:
        function = self.ctx.enclosing(at, cst.FunctionDef)
        if function is None or not function.name.value.startswith("test"):
            return False
        if self.in_test_module():
            return True
        # Elsewhere only a `test_*` function the file never calls itself is pytest's: a
        # script's `test(model, loader)` / `test_epoch()` called from `main()` evaluates.
        name = function.name.value
        if self._called_names is None:
            self._called_names = frozenset(
                (dotted_name(call.func) or "").rpartition(".")[2]
                for call in self.ctx.semantic.calls
            )
        return name.startswith("test_") and name not in self._called_names

    def samples_actions(self, at: cst.CSTNode) -> bool:
        """Whether the function around `at` samples from a distribution or keeps log-
        probabilities (`Categorical(probs)`, `m.log_prob(action)`): a policy acting during
        reinforcement-learning training, not a prediction."""
        function = self.ctx.enclosing(at, cst.FunctionDef)
        if function is None:
            return False
        found = self._samples.get(id(function))
        if found is None:
            found = any(
                (dotted_name(call.func) or "").rpartition(".")[2] in _POLICY_CALLS
                and self.ctx.enclosing(call, cst.FunctionDef) is function
                for call in self.ctx.semantic.calls
            )
            self._samples[id(function)] = found
        return found

    def in_test_module(self) -> bool:
        """A pytest module (`test_*.py`, `*_test.py`, under `tests/`, `conftest.py`): its
        `test*` functions smoke-run models on purpose. A script's `def test(model, loader)`
        is an evaluation like any other."""
        path = PurePosixPath(self.ctx.filename.replace("\\", "/"))
        return (
            path.name.startswith("test_")
            or path.stem.endswith("_test")
            or path.name == "conftest.py"
            or any(part in ("test", "tests", "testing") for part in path.parts[:-1])
        )

    def _loader_loop_purpose(self, at: cst.CSTNode) -> Purpose | None:
        """A loop over a loader named for evaluation that trains nothing: a test loop after
        training computes its metric in whatever mode the model is in, `no_grad` or not (old
        code has neither `no_grad` nor an eval-named function around it)."""
        if self.framework_managed(at):
            return None
        if self._in_pytest_function(at):
            return None  # pytest functions smoke-run models on purpose
        for node in self._chain(at):
            if type(node) in _NESTED_SCOPES:
                return None
            if type(node) is cst.For:
                loader = _evaluation_loader(node.iter)
                if loader is not None and not self.trains_within(node):
                    return Purpose(f"in the loop over `{loader}`", "evaluating", node)
        return None

    def _declared_purpose(self, at: cst.CSTNode) -> Purpose | None:
        chain = self._chain(at)
        for index, node in enumerate(chain):
            if type(node) is cst.With:
                found = self._with_grad_free(node)
                if found is not None:
                    if self._inside_training(chain[index:]):
                        return None
                    return Purpose(f"under `{found}`", "evaluating", node)
            if type(node) is cst.Lambda:
                return None
            if type(node) is cst.FunctionDef:
                if self.framework_managed(at):
                    return None
                found = self._decorated_grad_free(node)
                if found is not None and not self.has_direct_training_step(node):
                    return Purpose(f"in `{node.name.value}()`, decorated `@{found}`", "evaluating")
                name = node.name.value
                if is_eval_name(name) and not self.trains_within(node):
                    return Purpose(f"in `{name}()`", "evaluating")
                return None
        return None

    def _inside_training(self, chain: list[cst.CSTNode]) -> bool:
        for node in chain[1:]:
            if type(node) in _LOOPS_AND_FUNCTIONS:
                return self.has_direct_training_step(
                    cast(cst.For | cst.While | cst.FunctionDef, node)
                )
        return False

    def checkpoint_inference(self, at: cst.CSTNode, model: str) -> Purpose | None:
        """`at` runs `model` in a script with no training step, after loading its weights.

        >>> `model.load_state_dict(torch.load(p))` then `model(x)` in a predict script -> Purpose
        >>> the same in a method of a class (library code) -> None
        """
        if self.file_trains():
            return None
        scope: cst.Module | cst.FunctionDef = self.ctx.module
        chain = self._chain(at)
        for node in chain:
            if isinstance(node, cst.Lambda | cst.ClassDef):
                return None
            if isinstance(node, cst.FunctionDef):
                scope = node
                break
        # `model.load_state_dict(...)` in the scope's own statements, or `model =
        # torch.load(...)` among the values the scope assigns to `model`.
        loads: list[cst.CSTNode] = [
            call
            for call in self.ctx.semantic.calls
            if self._loads_state_into(call, model) and self.ctx.scopes(call)[-1] is scope
        ]
        loads += [
            value
            for value in self.ctx.scope_facts(scope).assignments.get(model, [])
            if isinstance(loaded := unwrap(value), cst.Call) and self._is_torch_load(loaded.func)
        ]
        position = self._statement_positions(scope)
        limit = self._position_in(chain, position)
        for load in loads:
            # A load in another function (a factory's `pretrained` branch) or after the call
            # does not reach the model that is called (a `__main__` smoke test on random
            # weights); one in the same statement (a loop that loads, then predicts) does.
            where = self._position_in(self.ctx.chain(load), position)
            if where is not None and limit is not None and where <= limit:
                return Purpose("after loading a checkpoint for inference", "predicting")
        return None

    def _statement_positions(self, scope: cst.Module | cst.FunctionDef) -> dict[int, int]:
        """id of each of `scope`'s own statements -> its position in the body."""
        body = scope.body if isinstance(scope, cst.Module) else scope.body.body
        return {id(statement): index for index, statement in enumerate(body)}

    @staticmethod
    def _position_in(chain: list[cst.CSTNode], positions: dict[int, int]) -> int | None:
        for node in chain:
            found = positions.get(id(node))
            if found is not None:
                return found
        return None

    def _is_torch_load(self, func: cst.BaseExpression) -> bool:
        # As written too: the walk may not have reached a function's own `import torch` yet.
        return (
            dotted_name(func) == _TORCH_LOAD or self.ctx.names.qualified_name(func) == _TORCH_LOAD
        )

    @staticmethod
    def _loads_state_into(call: cst.Call, model: str) -> bool:
        """`model.load_state_dict(...)`."""
        func = call.func
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value == _LOAD_STATE_DICT
            and dotted_name(func.value) == model
        )

    @staticmethod
    def single_sample(call: cst.Call) -> bool:
        """`net(x.unsqueeze(0))` / `net(x[None])`: a batch of one sample.

        >>> single_sample(parse("net(img.unsqueeze(0))")), single_sample(parse("net(batch)"))
        (True, False)
        """
        if not call.args or call.args[0].keyword is not None:
            return False
        value = call.args[0].value
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in torch_api.MOVE_METHODS
        ):
            value = value.func.value
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "unsqueeze"
            and value.args
            and isinstance(value.args[0].value, cst.Integer)
            and value.args[0].value.value == "0"
        ):
            return True
        if isinstance(value, cst.Subscript) and value.slice:
            first = value.slice[0].slice
            return isinstance(first, cst.Index) and (
                isinstance(first.value, cst.Name) and first.value.value == "None"
            )
        return False

    # -- frameworks -------------------------------------------------------------------

    def framework_managed(self, at: cst.CSTNode) -> bool:
        """Code a framework runs after switching modes itself.

        >>> `def validation_step(self, batch, i): self.model(x)` in a LightningModule -> True
        """
        function = self.ctx.enclosing(at, cst.FunctionDef)
        if function is None:
            return False
        found = self._managed.get(id(function))
        if found is None:
            found = self._managed[id(function)] = self._managed_function(function)
        return found

    def _managed_function(self, function: cst.FunctionDef) -> bool:
        cls = self.ctx.enclosing(function, cst.ClassDef)
        if cls is None:
            return False
        name = function.name.value
        if name in LIGHTNING_HOOKS:
            return True
        if name in TRAINER_HOOKS:
            for base in cls.bases:
                qualified = self.ctx.names.qualified_name(base.value)
                if qualified in _TRAINER_BASES:
                    return True
        return False

    def export_call(self, call: cst.Call) -> tuple[str, cst.BaseExpression] | None:
        """(`torch.onnx.export`, the model argument) for an export/trace/fusion call.

        >>> export_call(parse("torch.jit.trace(net, example)")) -> ('torch.jit.trace', net)
        """
        qualified = self.ctx.names.qualified_name(call.func)
        if qualified is None or qualified not in torch_api.EXPORTS:
            return None
        keyword = "mod" if qualified.startswith("torch.export") else "model"
        arg = argument(call, keyword, torch_api.EXPORTS[qualified])
        if arg is None:
            arg = argument(call, "func", torch_api.EXPORTS[qualified])
        if arg is None or arg.star:
            return None
        return qualified, arg.value


class _StepFinder(cst.CSTVisitor):
    """Training steps directly in one loop or function body (not nested loops/functions)."""

    def __init__(self, ctx: FileContext, root: cst.CSTNode) -> None:
        super().__init__()
        self.ctx = ctx
        self.root = root
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is not self.root and isinstance(
            node, cst.For | cst.While | cst.FunctionDef | cst.ClassDef | cst.Lambda
        ):
            return False
        if isinstance(node, cst.Call) and is_training_step(node, self.ctx):
            self.found = True
        return not self.found


def _binds(ctx: FileContext, node: cst.CSTNode, key: str) -> bool:
    """Whether `node` assigns `key` (or loops with it as its target)."""
    scope: cst.CSTNode = ctx.enclosing(node, cst.FunctionDef) or ctx.module
    facts = ctx.scope_facts(scope)  # type: ignore[arg-type]
    values = [*facts.assignments.get(key, []), *facts.loop_sources.get(key, [])]
    return any(any(n is node for n in ctx.chain(value)) for value in values)


def _contains_training(ctx: FileContext, function: cst.CSTNode) -> bool:
    found = False

    class _Any(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> bool:
            nonlocal found
            if is_training_step(node, ctx):
                found = True
            return not found

    visit_tree(function, _Any())
    return found
