"""The train/eval mode of each model along control flow, per function.

`ctx.modes` is the place rules read modes from:

    >>> ctx.modes.may_be_training("net", at=call)  # `net = Net()` ... `with no_grad(): net(x)`
    Fact(mode=Mode.TRAIN, reason='constructed with `Net(...)`', loop=None)
    >>> ctx.modes.eval_carried_by_loop("model", at=step)  # eval() at the end of an epoch loop
    Fact(mode=Mode.EVAL, reason='`model.eval()`', loop=...)

The analysis runs an abstract interpreter over the statements of the function that holds
the query (or the module), once per function. The state maps keys (`net`, `self.model`) to
the set of facts that may hold there: TRAIN, EVAL or UNKNOWN, each with its reason and,
when it arrived through a loop's back edge, that loop. It follows `.eval()`, `.train()`,
`.train(False)`, `.train(mode=x)` (unknown), chained calls (`Net().to(d).eval()`), aliases
and wrappers (`ddp = DDP(model)`, `ddp.module.eval()`), `model.apply(fn)` where `fn`
calls `.eval()`, helpers summarised by the project index ("sets `model` to eval"), loops
(the end of the body flows into its start), branches (both facts are kept), early returns,
`break`/`continue` and `try`. A call of an unknown function that receives the model makes
its mode UNKNOWN. Parameters take their mode from their call sites in the project; with no
visible caller, a parameter of a function named for evaluation may be in training mode.
Rules stay silent unless every fact agrees.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from bnlint.analysis import torch_api
from bnlint.analysis.calls import argument_for
from bnlint.analysis.intent import is_eval_name
from bnlint.analysis.models import caller_text, model_key
from bnlint.analysis.names import dotted_name
from bnlint.analysis.project import MODE_EVAL, MODE_TRAIN
from bnlint.analysis.semantic.scopes import literal_key, value_key
from bnlint.analysis.tri import Tri
from bnlint.analysis.walk import ScopeVisitor
from bnlint.analysis.walk import visit as visit_tree

if TYPE_CHECKING:
    from bnlint.analysis.context import FileContext


class Mode(enum.Enum):
    TRAIN = "train"
    EVAL = "eval"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Fact:
    """One way a model may be in a mode at a point, and why."""

    mode: Mode
    reason: str
    # id() of the loop whose back edge carried this fact here, if any.
    loop: int | None = None
    # True for the "no caller in view" assumption about a parameter.
    assumed: bool = False
    # For an explicit `.train()`: id() of the `with` blocks and the function around it.
    inside: tuple[int, ...] = ()
    # The node that set the mode (a `.train()` call, a constructor), for explanations.
    node: cst.CSTNode | None = field(default=None, compare=False)


Facts = frozenset[Fact]
State = dict[str, Facts]

_MAX_FACTS = 8
_NO_EFFECT_BUILTINS = frozenset(
    {
        "print",
        "len",
        "isinstance",
        "type",
        "id",
        "str",
        "repr",
        "getattr",
        "hasattr",
        "setattr",
        "list",
        "tuple",
        "sum",
        "sorted",
        "next",
        "iter",
        "enumerate",
        "zip",
        "vars",
        "dir",
        "hash",
    }
)
_NO_EFFECT_ROOTS = frozenset(
    {"torch", "copy", "logging", "numpy", "torchsummary", "torchinfo", "wandb", "os", "json"}
)
_UNKNOWN = frozenset({Fact(Mode.UNKNOWN, "unknown")})


def _join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b
    if b is None:
        return a
    joined: State = {}
    for key in a.keys() | b.keys():
        facts = a.get(key, _UNKNOWN) | b.get(key, _UNKNOWN)
        if len(facts) > _MAX_FACTS:
            facts = frozenset(sorted(facts, key=lambda f: (f.mode.value, f.reason))[:_MAX_FACTS])
        joined[key] = facts
    return joined


def _tag(state: State | None, loop: int) -> State | None:
    if state is None:
        return None
    return {
        key: frozenset(
            f
            if f.loop is not None or f.mode is Mode.UNKNOWN
            else Fact(f.mode, f.reason, loop, f.assumed, f.inside, f.node)
            for f in facts
        )
        for key, facts in state.items()
    }


class _Calls(ScopeVisitor):
    """Calls of an expression in evaluation order (arguments first), lambdas excluded."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []

    def leave_Call(self, original_node: cst.Call) -> None:
        self.calls.append(original_node)


def _calls(node: cst.CSTNode | None) -> list[cst.Call]:
    if node is None:
        return []
    collector = _Calls()
    visit_tree(node, collector)
    return collector.calls


@dataclass
class _Loop:
    carried: list[State]
    exits: list[State]


class ModeFlow:
    """Modes of models at each statement, computed per function on first query."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._records: dict[int, State] = {}
        self._done: set[int] = set()
        self._aliases: dict[str, set[str]] = {}
        self._loops: list[_Loop] = []
        self._scope: cst.FunctionDef | cst.Module = ctx.module
        self._scope_aliases: dict[int, dict[str, set[str]]] = {}
        self._module_end: State = {}
        self._withs: list[int] = []
        self._class_attributes: dict[int, dict[str, Fact]] = {}

    # -- public questions -------------------------------------------------------------

    def facts(self, key: str, at: cst.CSTNode) -> Facts:
        """Every fact about `key`'s mode right before the statement holding `at`.

        >>> `model.eval()` on one branch only, then `model(x)` -> {EVAL, TRAIN}
        """
        state = self.state_at(at)
        if state is None:
            return frozenset()
        probe = key
        while True:
            for candidate in [probe, *sorted(self._aliases.get(probe, ()))]:
                if candidate in state:
                    return state[candidate]
            if "." not in probe:
                return frozenset()
            probe = probe.rpartition(".")[0]

    def may_be_training(self, key: str, at: cst.CSTNode) -> Fact | None:
        """A TRAIN fact when every fact about `key` at `at` says training mode, else None.

        >>> `net = Net()` ... `net(x)` -> Fact(TRAIN, 'constructed with `Net(...)`')
        >>> after `if flag: net.eval()` -> None (the paths disagree)
        """
        facts = self.facts(key, at)
        if not facts or any(f.mode is not Mode.TRAIN for f in facts):
            return None
        # Deterministic, and the direct path before one carried around a loop: facts that
        # differ only in their loop otherwise come out of the set in any order.
        return sorted(facts, key=lambda f: (f.assumed, f.reason, f.loop is not None))[0]

    def eval_carried_by_loop(self, key: str, at: cst.CSTNode) -> Fact | None:
        """An EVAL fact that reaches `at` only through a loop's back edge, else None.

        >>> `for epoch: train_step(model); model.eval(); validate(model)` -> the eval() fact
        >>> `teacher.eval()` before the loop -> None (set once on purpose)
        """
        facts = self.facts(key, at)
        carried = [f for f in facts if f.mode is Mode.EVAL and f.loop is not None]
        if not carried:
            return None
        if any((f.mode is Mode.EVAL and f.loop is None) or f.mode is Mode.UNKNOWN for f in facts):
            return None
        return sorted(carried, key=lambda f: f.reason)[0]

    def bare_mode_attribute(self, key: str, at: cst.CSTNode) -> bool:
        """Whether the function (or module) around `at` writes `key.eval` as a statement
        without calling it (BN105): the mode the author meant to set."""
        scope: cst.CSTNode = self.ctx.enclosing(at, cst.FunctionDef) or self.ctx.module
        for node in self.ctx.tree.subtree(scope):
            if (
                isinstance(node, cst.Expr)
                and isinstance(node.value, cst.Attribute)
                and node.value.attr.value == "eval"
                and model_key(node.value.value) == key
            ):
                return True
        return False

    def eval_on_some_iterations(
        self, key: str, at: cst.CSTNode, loop: cst.For | cst.While
    ) -> Fact | None:
        """An EVAL fact set inside `loop` on some paths only (`if i % n == 0: validate()`)
        while other paths reach `at` in training mode, else None.

        >>> `for x in loader: if step % 100 == 0: evaluate(model)`; `loss.backward()` -> the fact
        >>> `model.eval()` on every iteration before the step (frozen BatchNorm) -> None
        """
        facts = self.facts(key, at)
        if any(f.mode is Mode.UNKNOWN for f in facts) or not any(
            f.mode is Mode.TRAIN for f in facts
        ):
            return None
        inside = [
            f
            for f in facts
            if f.mode is Mode.EVAL
            and f.node is not None
            and any(node is loop for node in self.ctx.chain(f.node))
        ]
        return sorted(inside, key=lambda f: f.reason)[0] if inside else None

    def state_at(self, at: cst.CSTNode) -> State | None:
        chain = self._chain(at)
        scope: cst.FunctionDef | cst.Module = self.ctx.module
        for node in chain:
            if isinstance(node, cst.FunctionDef):
                scope = node
                break
        self._analyse(scope)
        self._aliases = self._scope_aliases[id(scope)]
        for node in chain:
            state = self._records.get(id(node))
            if state is not None:
                return state
        return None

    def _chain(self, at: cst.CSTNode) -> list[cst.CSTNode]:
        return self.ctx.chain(at)

    # -- the interpreter --------------------------------------------------------------

    def _analyse(self, scope: cst.FunctionDef | cst.Module) -> None:
        if id(scope) in self._done:
            return
        self._done.add(id(scope))
        self._scope = scope
        self._aliases = {}
        self._scope_aliases[id(scope)] = self._aliases
        if isinstance(scope, cst.Module):
            self._module_end = self._block(list(scope.body), {}) or {}
            return
        entry = self._entry(scope)
        owner = self.ctx.enclosing(scope, cst.ClassDef)
        if owner is not None and not self._is_module(owner):
            # `self.net` built in `generate()` and run in `detect_image()`.
            for key, fact in self._attribute_modes(owner).items():
                entry.setdefault(key, frozenset({fact}))
        if owner is None:
            # Globals read by a function: the mode the script leaves them in at module level.
            self._analyse(self.ctx.module)
            self._scope, self._aliases = scope, self._scope_aliases[id(scope)]
            params = {p.name.value for p in scope.params.params}
            for key, facts in self._module_end.items():
                if key.split(".")[0] not in params and key not in entry:
                    entry[key] = facts
        body = scope.body
        statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
        self._block(statements, entry)  # type: ignore[arg-type]

    def _is_module(self, owner: cst.ClassDef) -> bool:
        """An `nn.Module` (or a class that may be one): its parts follow the mode its own
        user sets, so its methods see no mode of their own for `self.x`."""
        return self.ctx.project_index.is_module_class(owner.name.value) is not Tri.NO

    def _attribute_modes(self, owner: cst.ClassDef) -> dict[str, Fact]:
        """`self.x` attributes every method of `owner` leaves in training mode: built or
        loaded (`self.net = Net()`), moved or wrapped (`self.net = DataParallel(self.net)`),
        put in `train()`, and never put in eval, passed to an unknown function or set from
        anything else. Their mode when a method starts is then training mode."""
        cached = self._class_attributes.get(id(owner))
        if cached is not None:
            return cached
        self._class_attributes[id(owner)] = {}
        built: dict[str, Fact] = {}
        spoiled: set[str] = set()
        for node in self.ctx.tree.subtree(owner):
            if type(node) is cst.Assign:
                for target in node.targets:
                    key = value_key(target.target)
                    if key is None or not key.startswith("self.") or key.count(".") != 1:
                        continue
                    mode = self._assigned_mode(key, node.value)
                    if mode is None:
                        spoiled.add(key)
                    elif mode.mode is Mode.TRAIN and mode.node is not None:
                        built.setdefault(key, mode)
                    elif mode.mode is not Mode.TRAIN:
                        spoiled.add(key)
            elif type(node) is cst.Call:
                for key in self._attribute_effects(node):
                    spoiled.add(key)
        found = {}
        for key, fact in built.items():
            # Put in eval from outside the class (`detector.net.eval()`): not a class fact.
            if key not in spoiled and not self._evaluated_outside(owner, key.partition(".")[2]):
                found[key] = fact
        self._class_attributes[id(owner)] = found
        return found

    def _evaluated_outside(self, owner: cst.ClassDef, attribute: str) -> bool:
        """Whether code outside `owner` calls `x.<attribute>.eval()` on an object that may
        be an instance of it (another class's own `self.<attribute>` is not)."""
        for call in self.ctx.semantic.calls:
            name = dotted_name(call.func) or ""
            if not name.endswith(f".{attribute}.eval") and not name.endswith(f".{attribute}.train"):
                continue
            around = self.ctx.enclosing(call, cst.ClassDef)
            if around is owner or (name.startswith("self.") and around is not None):
                continue
            return True
        return False

    def _assigned_mode(self, key: str, value: cst.BaseExpression) -> Fact | None:
        """The mode an assignment to `key` in some method leaves it in: TRAIN for a fresh
        model (with the node that built it), a Fact without node for `self.x = self.x.cuda()`
        and wrappers of it, EVAL for a chained `.eval()`; None when unknown."""
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in torch_api.MOVE_METHODS | torch_api.MODE_METHODS
        ):
            if value.func.attr.value in ("eval", "train"):
                return Fact(_mode_of(value), f"`{self.ctx.code_for(value)}`")
            value = value.func.value
        if isinstance(value, cst.Call) and value.args:
            qualified = self.ctx.names.qualified_name(value.func)
            if qualified in torch_api.WRAPPERS:
                value = value.args[0].value
        if isinstance(value, cst.Name | cst.Attribute) and model_key(value) == key:
            return Fact(Mode.TRAIN, "kept")
        if not isinstance(value, cst.Call):
            return None
        built = self.ctx.models.constructed(key, value, self.ctx.module)
        if built is None:
            return None
        method = self.ctx.enclosing(value, cst.FunctionDef)
        where = f" in `{method.name.value}()`" if method is not None else ""
        return Fact(Mode.TRAIN, f"{built.origin}{where}", node=value)

    def _attribute_effects(self, call: cst.Call) -> list[str]:
        """The `self.x` attributes a call may take out of training mode."""
        func = call.func
        if isinstance(func, cst.Attribute):
            receiver = model_key(func.value)
            method = func.attr.value
            if (
                receiver is not None
                and receiver.startswith("self.")
                and method
                in (
                    "eval",
                    "train",
                    "apply",
                )
            ):
                return [] if method == "train" and _mode_of(call) is Mode.TRAIN else [receiver]
            name = dotted_name(func)
            if name is not None and name.startswith("self.") and name.count(".") == 1:
                summary = self.ctx.project_index.function(func.attr.value)
                if summary is not None:
                    return [k for k, v in summary.sets_mode.items() if v != MODE_TRAIN]
        if self._no_effect(func):
            return []
        return [
            key
            for arg in call.args
            if (key := model_key(arg.value)) is not None and key.startswith("self.")
        ]

    def _site_call(self, caller: str, function: str) -> cst.Call | None:
        """The one call of `function` inside this file's `caller`: the call site the project
        index knows by its line, as a node an explanation can point at."""
        semantic = self.ctx.semantic
        found = [
            call
            for call in semantic.calls
            if (dotted_name(call.func) or "").rpartition(".")[2] == function
            and any(
                isinstance(scope, cst.FunctionDef) and scope.name.value == caller
                for scope in semantic.call_scopes.get(call, ())
            )
        ]
        return found[0] if len(found) == 1 else None

    def _entry(self, function: cst.FunctionDef) -> State:
        """Modes of parameters from the function's call sites in the project."""
        project = self.ctx.project_index
        params = [p.name.value for p in [*function.params.posonly_params, *function.params.params]]
        offset = 1 if params and params[0] in ("self", "cls") else 0
        sites = project.sites_for(function.name.value, self.ctx.filename)
        unknown = project.unknown_calls_for(function.name.value, self.ctx.filename)
        state: State = {}
        for index, param in enumerate(params[offset:]):
            modes = []
            for site in sites:
                mode = site.arg_modes.get(index, site.arg_modes.get(param))
                if mode is not None:
                    modes.append((mode, site))
            train = [site for mode, site in modes if mode == MODE_TRAIN]
            if train:
                site = train[0]
                where = f"line {site.line}"
                if site.filename != self.ctx.filename:
                    where = f"{site.filename}:{site.line}"
                caller = site.caller.rpartition(".")[2]
                reason = f"{caller_text(site)} passes it in training mode ({where})"
                call = (
                    self._site_call(caller, function.name.value)
                    if site.filename == self.ctx.filename
                    else None
                )
                state[param] = frozenset({Fact(Mode.TRAIN, reason, node=call)})
            elif (
                modes
                and len(modes) == len(sites)
                and not unknown
                and all(m == MODE_EVAL for m, _ in modes)
            ):
                state[param] = frozenset({Fact(Mode.EVAL, "every caller sets eval")})
            elif not sites and not unknown and is_eval_name(function.name.value):
                state[param] = frozenset(
                    {
                        Fact(
                            Mode.TRAIN,
                            f"no caller in view, and `{function.name.value}()` never calls "
                            f"`{param}.eval()`",
                            assumed=True,
                        )
                    }
                )
        return state

    def _block(self, statements: list[cst.CSTNode], state: State | None) -> State | None:
        for statement in statements:
            if state is None:
                return None
            state = self._statement(statement, state)
        return state

    def _suite(self, suite: cst.BaseSuite, state: State | None) -> State | None:
        if isinstance(suite, cst.IndentedBlock):
            return self._block(list(suite.body), state)
        if isinstance(suite, cst.SimpleStatementSuite):
            return self._small_statements(list(suite.body), state)
        return state

    def _small_statements(
        self, smalls: list[cst.BaseSmallStatement], state: State | None
    ) -> State | None:
        for small in smalls:
            if state is None:
                return None
            self._records[id(small)] = state
            state = self._small(small, state)
        return state

    def _statement(self, node: cst.CSTNode, state: State) -> State | None:
        self._records[id(node)] = state
        if isinstance(node, cst.SimpleStatementLine):
            return self._small_statements(list(node.body), state)
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            return state
        if isinstance(node, cst.If):
            state = self._effects(_calls(node.test), state)
            then = self._suite(node.body, state)
            if _is_main_guard(node.test) and isinstance(self._scope, cst.Module):
                # The script's entry point: the functions it calls see the state it builds.
                return then
            orelse: State | None = state
            if isinstance(node.orelse, cst.Else):
                orelse = self._suite(node.orelse.body, state)
            elif isinstance(node.orelse, cst.If):
                orelse = self._statement(node.orelse, state)
            return _join(then, orelse)
        if isinstance(node, cst.For | cst.While):
            return self._loop(node, state)
        if isinstance(node, cst.With):
            for item in node.items:
                state = self._effects(_calls(item.item), state)
                if item.asname is not None:
                    state = self._kill_target(item.asname.name, state)
            self._withs.append(id(node))
            try:
                return self._suite(node.body, state)
            finally:
                self._withs.pop()
        if isinstance(node, cst.Try | cst.TryStar):
            body = self._suite(node.body, state)
            outs = []
            handler_entry = _join(state, body) or state
            for handler in node.handlers:
                outs.append(self._suite(handler.body, handler_entry))
            if node.orelse is not None:
                body = self._suite(node.orelse.body, body)
            out: State | None = body
            for other in outs:
                out = _join(out, other)
            if node.finalbody is not None:
                out = self._suite(node.finalbody.body, out if out is not None else state)
            return out
        if isinstance(node, cst.Match):
            state = self._effects(_calls(node.subject), state)
            result: State | None = None
            for case in node.cases:
                result = _join(result, self._suite(case.body, state))
            return _join(result, state)
        return state

    def _loop(self, node: cst.For | cst.While, state: State) -> State | None:
        if isinstance(node, cst.For):
            state = self._effects(_calls(node.iter), state)
            state = self._kill_target(node.target, state)
        else:
            state = self._effects(_calls(node.test), state)
        entry = state
        head: State | None = entry
        end: State | None = None
        exits: list[State] = []
        for _ in range(2):
            frame = _Loop([], [])
            self._loops.append(frame)
            end = self._suite(node.body, head)
            self._loops.pop()
            for carried in frame.carried:
                end = _join(end, carried)
            exits = frame.exits
            head = _join(entry, _tag(end, id(node)))
        out = _join(entry, _tag(end, id(node)))
        if node.orelse is not None:
            out = self._suite(node.orelse.body, out)
        for exit_state in exits:
            out = _join(out, exit_state)
        return out

    def _small(self, small: cst.BaseSmallStatement, state: State) -> State | None:
        if isinstance(small, cst.Return | cst.Raise):
            return None
        if isinstance(small, cst.Continue | cst.Break):
            if self._loops:
                frame = self._loops[-1]
                (frame.carried if isinstance(small, cst.Continue) else frame.exits).append(state)
            return None
        if isinstance(small, cst.Assign):
            state = self._effects(_calls(small.value), state)
            for target in small.targets:
                pairs = _pairs(target.target, small.value)
                for name, value in pairs or [(target.target, small.value)]:
                    state = self._bind(name, value, state)
            return state
        if isinstance(small, cst.AnnAssign):
            if small.value is None:
                return state
            state = self._effects(_calls(small.value), state)
            return self._bind(small.target, small.value, state)
        if isinstance(small, cst.Expr | cst.AugAssign):
            return self._effects(_calls(small), state)
        return state

    # -- effects of calls -------------------------------------------------------------

    def _effects(self, calls: list[cst.Call], state: State) -> State:
        for call in calls:
            state = self._effect(call, state)
        return state

    def _effect(self, call: cst.Call, state: State) -> State:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = model_key(func.value)
            if method in ("eval", "train") and receiver is not None:
                mode = _mode_of(call)
                text = f"`{self.ctx.code_for(call)}`"
                inside = (*self._withs, id(self._scope)) if mode is Mode.TRAIN else ()
                fact = Fact(mode, text, inside=inside, node=call)
                return self._set(receiver, frozenset({fact}), state)
            if method == "apply" and receiver is not None and call.args:
                fn = dotted_name(call.args[0].value)
                summary = self.ctx.project_index.function(fn.rpartition(".")[2]) if fn else None
                if summary is not None and summary.evals_argument:
                    text = f"`{self.ctx.code_for(call)}`"
                    fact = Fact(Mode.EVAL, text, node=call)
                    return self._set(receiver, frozenset({fact}), state)
                return state
        return self._helper(call, state)

    def _helper(self, call: cst.Call, state: State) -> State:
        func = call.func
        name = dotted_name(func)
        if name is None:
            return state
        root, _, method = name.rpartition(".")
        method = method or name
        project = self.ctx.project_index
        summary = None
        offset = 0
        if "." not in name:
            summary = project.function(name)
        elif root in ("self", "cls") or root == "super()":
            summary = project.function(method)
            offset = 1
        elif self.ctx.names.qualified_name(func) is None:
            # `model.freeze()`: a method of the model's class that sets `self`'s mode.
            facts = project.function(method)
            receiver = model_key(func.value) if isinstance(func, cst.Attribute) else None
            if facts is not None and receiver is not None and "self" in facts.sets_mode:
                mode = (
                    Mode(facts.sets_mode["self"])
                    if facts.sets_mode["self"]
                    in (
                        MODE_EVAL,
                        MODE_TRAIN,
                    )
                    else Mode.UNKNOWN
                )
                text = f"`{self.ctx.code_for(call)}`"
                return self._set(receiver, frozenset({Fact(mode, text, node=call)}), state)
        args = [(i, arg) for i, arg in enumerate(call.args) if not arg.star]
        keys = [(i, arg, model_key(arg.value)) for i, arg in args]
        passed = [
            (i, arg, key) for i, arg, key in keys if key is not None and self._tracked(key, state)
        ]
        if summary is None:
            if not passed or self._no_effect(func):
                return state
            for _, _, key in passed:
                state = self._set(key, _UNKNOWN, state)
            return state
        text = f"`{self.ctx.code_for(func)}()`"
        effects = project.effects(summary)
        for key_name, value in effects.items():
            if key_name.startswith("self.") and offset:
                fact = Fact(_as_mode(value), text, node=call)
                state = self._set(key_name, frozenset({fact}), state)
        for index, arg, key in passed:
            param = None
            if arg.keyword is not None:
                param = arg.keyword.value
            elif index + offset < len(summary.params):
                param = summary.params[index + offset]
            if param is not None and param in effects:
                mode = _as_mode(effects[param])
                state = self._set(key, frozenset({Fact(mode, text, node=call)}), state)
        # `validate(ctx)` where `validate` calls `ctx.model.eval()`: the argument's attribute.
        bound = {
            (arg.keyword.value if arg.keyword is not None else summary.params[i + offset]): key
            for i, arg, key in keys
            if key is not None and (arg.keyword is not None or i + offset < len(summary.params))
        }
        for target, value in effects.items():
            head, dot, rest = target.partition(".")
            if dot and head in bound and head != "self":
                fact = Fact(_as_mode(value), text, node=call)
                state = self._set(f"{bound[head]}.{rest}", frozenset({fact}), state)
        return state

    def _no_effect(self, func: cst.BaseExpression) -> bool:
        if isinstance(func, cst.Name) and func.value in _NO_EFFECT_BUILTINS:
            return True
        if torch_api.looks_like_class(dotted_name(func)):
            # A class given the model (`GradCAM(model, layer)`, `SummaryWriter`): its
            # constructor keeps a reference or adds hooks; it does not switch modes.
            return True
        qualified = self.ctx.names.qualified_name(func)
        return qualified is not None and qualified.split(".")[0] in _NO_EFFECT_ROOTS

    def _tracked(self, key: str, state: State) -> bool:
        probe = key
        while True:
            if probe in state:
                return True
            if "." not in probe:
                return False
            probe = probe.rpartition(".")[0]

    # -- bindings ---------------------------------------------------------------------

    def _set(self, key: str, facts: Facts, state: State) -> State:
        new = {k: v for k, v in state.items() if not _inside(k, key)}
        for member in {key, *self._aliases.get(key, ())}:
            new[member] = facts
        return new

    def _kill_target(self, target: cst.BaseExpression, state: State) -> State:
        names = (
            [target]
            if not isinstance(target, cst.Tuple | cst.List)
            else [e.value for e in target.elements]
        )
        for name in names:
            key = value_key(name)
            if key is not None and self._tracked(key, state) and key in state:
                state = {k: v for k, v in state.items() if k != key and not _inside(k, key)}
        return state

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, state: State) -> State:
        key = value_key(target)
        if key is None:
            return self._kill_target(target, state)
        return self._bind_key(key, value, state)

    def _bind_key(self, key: str, value: cst.BaseExpression, state: State) -> State:
        facts = self._value_facts(key, value, state)
        state = {k: v for k, v in state.items() if k != key and not _inside(k, key)}
        if facts:
            state[key] = facts
        # `models = {"net": Net(), ...}` / `nets = [Net(), ...]`: each element is an object.
        for index, element in _literal_elements(value):
            state = self._bind_key(f"{key}[{index!r}]", element, state)
        return state

    def _value_facts(self, key: str, value: cst.BaseExpression, state: State) -> Facts | None:
        """The mode a freshly bound value is in (None: not a model we can follow)."""
        chain_mode: Fact | None = None
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in torch_api.MOVE_METHODS | torch_api.MODE_METHODS
        ):
            if chain_mode is None and value.func.attr.value in ("eval", "train"):
                chain_mode = Fact(_mode_of(value), f"`{self.ctx.code_for(value)}`", node=value)
            value = value.func.value
        source: Facts | None = None
        if isinstance(value, cst.Name | cst.Attribute):
            other = model_key(value)
            if other is not None and other != key:
                self._alias(key, other)
                source = self._lookup(other, state)
            elif other == key:
                source = self._lookup(key, state)  # `model = model.cuda()`
        elif isinstance(value, cst.Call):
            given = self._given_back(value)
            if given is not None:
                return self._value_facts(key, given, state)
            source = self._constructed(key, value, state)
        if chain_mode is not None:
            return frozenset({chain_mode})
        return source

    def _own_from_pretrained(self, func: cst.Attribute) -> Mode | None:
        """The mode a project class's own `from_pretrained` returns its model in (Hugging
        Face's returns eval mode; a project's `return cls(...)` after loading does not)."""
        owner = dotted_name(func.value)
        project = self.ctx.project_index
        if owner is None or not project.classes_for(owner.rpartition(".")[2]):
            return None
        summary = project.function(torch_api.FROM_PRETRAINED, self.ctx.filename)
        if summary is None or summary.returns_mode not in (MODE_TRAIN, MODE_EVAL):
            return None
        return _as_mode(summary.returns_mode)

    def _given_back(self, call: cst.Call) -> cst.BaseExpression | None:
        """The argument a project function returns unchanged (`reload_model(model, path)`)."""
        name = dotted_name(call.func)
        if name is None or ("." in name and not name.startswith("self.")):
            return None  # a plain function of the project, or a method of this class
        summary = self.ctx.project_index.function(name.rpartition(".")[2], self.ctx.filename)
        return None if summary is None else argument_for(call, summary)

    def _constructed(self, key: str, call: cst.Call, state: State) -> Facts | None:
        func = call.func
        qualified = self.ctx.names.qualified_name(func)
        first = call.args[0].value if call.args and call.args[0].keyword is None else None
        if qualified is not None and first is not None:
            if qualified in torch_api.WRAPPERS:
                other = model_key(first)
                if other is not None:
                    self._alias(key, other)
                    return self._lookup(other, state)
            if qualified in torch_api.DEEPCOPY:
                other = model_key(first)
                facts = None if other is None else self._lookup(other, state)
                if facts is None:
                    return None
                return facts
        if isinstance(func, cst.Attribute) and func.attr.value == torch_api.FROM_PRETRAINED:
            own = self._own_from_pretrained(func)
            if own is not None:
                named = "training" if own is Mode.TRAIN else "eval"
                reason = (
                    f"`{self.ctx.code_for(func)}()`, the project's own, returns it in {named} mode"
                )
                return frozenset({Fact(own, reason, node=call)})
            fact = Fact(Mode.EVAL, "`from_pretrained` returns it in eval mode", node=call)
            return frozenset({fact})
        scope = self._scope
        built = self.ctx.models.constructed(key, call, scope)
        if built is None:
            return None
        if qualified in torch_api.TORCH_LOAD:
            return frozenset(
                {
                    Fact(
                        Mode.TRAIN,
                        f"{built.origin}, which keeps the mode it was saved in",
                        node=call,
                    )
                }
            )
        if built.built_mode is not None:
            mode = _as_mode(built.built_mode)
            if mode is Mode.TRAIN:
                reason = f"{built.origin}, which returns a new model in training mode"
                return frozenset({Fact(mode, reason, node=call)})
            return frozenset({Fact(mode, built.origin, node=call)})
        return frozenset({Fact(Mode.TRAIN, built.origin, node=call)})

    def _lookup(self, key: str, state: State) -> Facts | None:
        probe = key
        while True:
            if probe in state:
                return state[probe]
            if "." not in probe:
                return None
            probe = probe.rpartition(".")[0]

    def _alias(self, a: str, b: str) -> None:
        group = self._aliases.get(a, set()) | self._aliases.get(b, set()) | {a, b}
        for member in group:
            self._aliases[member] = group - {member}


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    texts = [s for s in sides if isinstance(s, cst.SimpleString) and "__main__" in s.value]
    return isinstance(test.comparisons[0].operator, cst.Equal) and bool(names) and bool(texts)


def _inside(key: str, owner: str) -> bool:
    """Whether `key` is an attribute or element of `owner`: `net.head`, `nets[0]`."""
    return key.startswith((owner + ".", owner + "["))


def _literal_elements(value: cst.BaseExpression) -> list[tuple[int | str, cst.BaseExpression]]:
    """The keyed elements of a dict, list or tuple literal (none when one is starred)."""
    found: list[tuple[int | str, cst.BaseExpression]] = []
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                return []
            key = literal_key(element.key)
            if key is not None:
                found.append((key, element.value))
    elif isinstance(value, cst.List | cst.Tuple):
        for index, item in enumerate(value.elements):
            if isinstance(item, cst.StarredElement):
                return []
            found.append((index, item.value))
    return found


def _pairs(
    target: cst.BaseExpression, value: cst.BaseExpression
) -> list[tuple[cst.BaseExpression, cst.BaseExpression]] | None:
    """`a, b = A(), B()` -> [(a, A()), (b, B())]; None unless both sides are tuples alike."""
    if not isinstance(target, cst.Tuple | cst.List) or not isinstance(value, cst.Tuple | cst.List):
        return None
    if len(target.elements) != len(value.elements):
        return None
    if any(isinstance(e, cst.StarredElement) for e in [*target.elements, *value.elements]):
        return None
    return [(t.value, v.value) for t, v in zip(target.elements, value.elements, strict=True)]


def _as_mode(value: str) -> Mode:
    return Mode.EVAL if value == MODE_EVAL else Mode.TRAIN if value == MODE_TRAIN else Mode.UNKNOWN


def _mode_of(call: cst.Call) -> Mode:
    """`.eval()` -> EVAL; `.train()` / `.train(True)` -> TRAIN; `.train(False)` -> EVAL."""
    func = call.func
    assert isinstance(func, cst.Attribute)
    if func.attr.value == "eval":
        return Mode.EVAL if not call.args else Mode.UNKNOWN
    if not call.args:
        return Mode.TRAIN
    value = call.args[0].value
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return Mode.TRAIN if value.value == "True" else Mode.EVAL
    return Mode.UNKNOWN
