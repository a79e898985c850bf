"""Global hooks for `bnlint run`: observe every forward, optimizer step and export of a script.

The hooks do as little as possible on the hot path: one thread-local depth counter per
module call, and the checks only at the outermost call of a model (once per step).
"""

from __future__ import annotations

import functools
import sys
import threading
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.export
import torch.jit
import torch.onnx
import torch.utils.data
from torch import nn

from bnlint.diagnostics import Finding, Severity
from bnlint.probe import layers
from bnlint.probe.anchors import keyword_value
from bnlint.probe.findings import Collector, make_finding
from bnlint.probe.frames import Location, is_torch_frame, user_frame
from bnlint.probe.names import display_name, layer_label, unwrap

_HALF_DTYPES = (torch.float16, torch.bfloat16)


def _compiling() -> bool:
    return bool(torch.compiler.is_compiling())


@dataclass
class _ModelInfo:
    """What a root model holds, computed once per model object."""

    mode_layers: list[tuple[str, nn.Module]]
    batch_norms: list[tuple[str, nn.Module]]
    inner: nn.Module


@dataclass
class _BatchSizes:
    smallest: int
    largest: int
    model: str
    # The DataLoader being iterated: its construction line and its `batch_size=` value.
    loader: tuple[Location, ...] = ()


@dataclass
class _Pending:
    """A training-mode forward without gradients, not yet known to be evaluation or training.

    It was training (a GAN's generator making fakes, an EMA teacher) when a backward pass
    follows it and an optimizer owning the model then steps, or when the model's parameters
    change outside any optimizer (an EMA update). It was evaluation when the model trains
    again, or its own optimizer steps, with no backward pass since; or when it repeats at the
    same line while still undecided (a validation loop); or when the run ends.
    """

    model: weakref.ref[nn.Module]
    finding: Finding
    backwards: int
    fingerprint: tuple[tuple[int, int], ...]


@dataclass
class _GradForwards:
    """Training-mode forwards with gradients at one line: evaluation if none is backpropagated."""

    model: str
    location: Location | None
    backwards: int
    repeats: int = 0
    backpropagated: bool = False
    watching: bool = False


@dataclass
class _Call:
    """The outermost forward in progress on this thread."""

    root: nn.Module
    location: Location | None
    name: str
    training: bool
    # Set when the output's gradient tells whether this forward was evaluation.
    watch: _GradForwards | None = None


class _Local(threading.local):
    depth = 0
    call: _Call | None = None


@dataclass
class Monitor:
    """Installs the hooks, collects findings, and takes everything out again."""

    min_batch_size: int = 8
    collector: Collector = field(default_factory=Collector)

    def __post_init__(self) -> None:
        self._local = _Local()
        self._infos: weakref.WeakKeyDictionary[nn.Module, _ModelInfo] = weakref.WeakKeyDictionary()
        self._stats_seen: weakref.WeakKeyDictionary[nn.Module, tuple[int, ...]] = (
            weakref.WeakKeyDictionary()
        )
        # Roots whose last forward (with gradients) ran with every mode-dependent layer in eval.
        self._eval_last: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()
        # BN101 candidates, per model and line (see _Pending).
        self._open: dict[tuple[int, Location | None], _Pending] = {}
        # Training-mode forwards with gradients, per model and line (see _GradForwards).
        self._grad_forwards: dict[tuple[int, Location | None], _GradForwards] = {}
        self._backwards = 0
        self._batches: dict[tuple[int, Location | None], _BatchSizes] = {}
        # Models whose parameters change between forwards without an optimizer step (EMA).
        self._ema_updated: weakref.WeakSet[nn.Module] = weakref.WeakSet()
        # Norms being re-calibrated on purpose (reset_running_stats(), momentum=None).
        self._recalibrating: weakref.WeakSet[nn.Module] = weakref.WeakSet()
        # Where each model was last cast to half precision, and switched to train().
        self._cast_sites: weakref.WeakKeyDictionary[nn.Module, Location] = (
            weakref.WeakKeyDictionary()
        )
        self._train_sites: weakref.WeakKeyDictionary[nn.Module, Location] = (
            weakref.WeakKeyDictionary()
        )
        self._load_sites: weakref.WeakKeyDictionary[nn.Module, Location | None] = (
            weakref.WeakKeyDictionary()
        )
        # DataLoader -> (batch_size, (its batch_size value, its construction line)).
        self._loader_sites: weakref.WeakKeyDictionary[Any, tuple[int, tuple[Location, ...]]] = (
            weakref.WeakKeyDictionary()
        )
        self._current_loader: tuple[int, tuple[Location, ...]] | None = None
        # Roots that ran a training forward with gradients since the last optimizer step,
        # with the running-statistics versions of their frozen norms at that time (BN104).
        self._trained: weakref.WeakKeyDictionary[nn.Module, None] = weakref.WeakKeyDictionary()
        self._frozen_seen: weakref.WeakKeyDictionary[nn.Module, tuple[int, ...]] = (
            weakref.WeakKeyDictionary()
        )
        self._steps_seen: weakref.WeakKeyDictionary[nn.Module, int] = weakref.WeakKeyDictionary()
        self._trained_roots: weakref.WeakSet[nn.Module] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._handles: list[Any] = []
        self._patches: list[tuple[Any, str, Any]] = []
        self._warning_filter: Any = None
        self._errors = 0

    # -- installation -------------------------------------------------------------------

    def install(self) -> None:
        from torch.nn.modules.module import (
            register_module_forward_hook,
            register_module_forward_pre_hook,
        )
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        # torch warns that compiled modules see global hooks twice; the depth counter handles it.
        warnings.filterwarnings(
            "ignore", message=r"Using `torch.compile\(module\)` when there are global hooks"
        )
        self._warning_filter = warnings.filters[0]
        self._handles.append(register_module_forward_pre_hook(self._pre_forward))
        self._handles.append(register_module_forward_hook(self._post_forward, always_call=True))
        self._handles.append(register_optimizer_step_pre_hook(self._pre_step))
        self._patch(nn.Module, "load_state_dict", self._wrap_load_state_dict)
        self._patch(torch, "load", self._wrap_torch_load)
        self._patch(nn.Module, "train", self._wrap_train)
        for cast in ("half", "bfloat16", "to"):
            self._patch(nn.Module, cast, functools.partial(self._wrap_cast, name=cast))
        self._patch(
            nn.modules.batchnorm._NormBase, "reset_running_stats", self._wrap_reset_running_stats
        )
        self._patch(torch.autograd, "backward", self._wrap_backward)
        self._patch(torch.autograd, "grad", self._wrap_backward)
        self._patch(torch.utils.data.DataLoader, "__init__", self._wrap_loader_init)
        self._patch(torch.utils.data.DataLoader, "__iter__", self._wrap_loader_iter)
        self._patch(
            torch.onnx, "export", functools.partial(self._wrap_export, name="torch.onnx.export")
        )
        self._patch(
            torch.jit, "trace", functools.partial(self._wrap_export, name="torch.jit.trace")
        )
        self._patch(
            torch.jit,
            "trace_module",
            functools.partial(self._wrap_export, name="torch.jit.trace_module"),
        )
        self._patch(
            torch.export, "export", functools.partial(self._wrap_export, name="torch.export.export")
        )

    def uninstall(self) -> None:
        filters: list[Any] = warnings.filters  # type: ignore[assignment]
        if self._warning_filter in filters:
            filters.remove(self._warning_filter)
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        for owner, attribute, original in reversed(self._patches):
            setattr(owner, attribute, original)
        self._patches.clear()

    def _patch(self, owner: Any, attribute: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__.get(attribute) if isinstance(owner, type) else None
        original = original or getattr(owner, attribute, None)
        if original is None:
            return
        wrapper = make(original)
        functools.update_wrapper(wrapper, original)
        setattr(owner, attribute, wrapper)
        self._patches.append((owner, attribute, original))

    # -- the hot path -------------------------------------------------------------------

    def _pre_forward(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if _compiling():
            return
        local = self._local
        depth = local.depth
        local.depth = depth + 1
        try:
            if depth == 0:
                local.call = self._top_level(module, args)
                return
            call = local.call
            if (
                call is not None
                and call.training
                and module.training
                and layers.is_batch_norm(module)
            ):
                self._record_batch(call, module, args)
        except Exception as error:  # the probe must never break the script it observes
            self._internal_error(error)

    def _post_forward(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if _compiling():
            return
        local = self._local
        if local.depth > 0:
            local.depth -= 1
        if local.depth == 0:
            call = local.call
            local.call = None
            if call is not None and call.watch is not None:
                try:
                    self._watch_gradient(call.watch, output)
                except Exception as error:  # the probe must never break the script
                    self._internal_error(error)

    def _info(self, module: nn.Module) -> _ModelInfo:
        info = self._infos.get(module)
        if info is None:
            inner = unwrap(module)
            info = _ModelInfo(
                layers.mode_dependent_layers(module), layers.batch_norm_layers(module), inner
            )
            self._infos[module] = info
        return info

    def _top_level(self, module: nn.Module, args: tuple[Any, ...]) -> _Call | None:
        info = self._info(module)
        if not info.mode_layers:
            return None
        caller = _caller_of_module(sys._getframe(2))
        if is_torch_frame(caller):
            # torch's own utilities drive the model (update_bn, tracing during export).
            return None
        frame = user_frame(caller)
        location = Location.of(frame)
        training_layers = [m for _, m in info.mode_layers if m.training]
        grad = torch.is_grad_enabled()
        if not training_layers:
            if grad and self._open:
                self._close_open(module)
            if grad and not info.inner.training:
                self._eval_last[module] = display_name(module, frame)
            elif module in self._eval_last:
                del self._eval_last[module]
            self._check_running_stats(module, info, location, frame)
            return None
        if module in self._eval_last:
            del self._eval_last[module]
        if grad and self._open:
            self._close_open(module)
        if not grad:
            if info.inner.training and not self._recalibration(module, training_layers):
                self._note_no_grad_training(module, training_layers, location, frame)
            return None
        name = display_name(module, frame)
        call = _Call(module, location, name, training=True)
        if not self._recalibration(module, training_layers):
            call.watch = self._note_grad_forward(module, location, name)
        self._trained[module] = None
        if layers.is_batch_norm(module) and module.training:
            self._record_batch(call, module, args)
        self._check_half(call, info)
        return call

    def _recalibration(self, model: nn.Module, training_layers: list[nn.Module]) -> bool:
        """Deliberate re-estimation of BatchNorm statistics: every layer still in training mode
        is a norm reset with `reset_running_stats()`, or given `momentum=None` (a cumulative
        average) in a model no optimizer has trained yet, so forwards in training mode without
        a step are the point."""
        cumulative_ok = model not in self._trained_roots
        return all(
            layers.is_batch_norm(m)
            and (
                m in self._recalibrating or (cumulative_ok and getattr(m, "momentum", 0.1) is None)
            )
            for m in training_layers
        )

    # -- checks -------------------------------------------------------------------------

    def _note_no_grad_training(
        self,
        module: nn.Module,
        training_layers: list[nn.Module],
        location: Location | None,
        frame: Any,
    ) -> None:
        key = (id(module), location)
        with self._lock:
            if module in self._ema_updated:
                return
            pending = self._open.get(key)
            if pending is not None and pending.model() is module:
                if _fingerprint(module) != pending.fingerprint:
                    # Updated outside an optimizer (an EMA teacher, a momentum encoder): its
                    # training-mode forwards are part of training, now and at the end.
                    del self._open[key]
                    self._ema_updated.add(module)
                    return
                elif self._backwards == pending.backwards:
                    # The same line again with nothing trained in between: a loop over
                    # batches for evaluation.
                    pending.finding = replace(pending.finding, count=pending.finding.count + 1)
                    return
                else:
                    self.collector.add(self._open.pop(key).finding, count=True)
        has_bn = any(layers.is_batch_norm(m) for m in training_layers)
        when = (
            "under `torch.inference_mode()`"
            if torch.is_inference_mode_enabled()
            else "under `torch.no_grad()`"
        )
        effect = (
            "BatchNorm normalizes each batch with its own statistics and updates its running statistics"
            if has_bn
            else "dropout zeroes activations at random"
        )
        finding = make_finding(
            "BN101", location, model=display_name(module, frame), when=when, effect=effect
        )
        with self._lock:
            self._open[key] = _Pending(
                weakref.ref(module), finding, self._backwards, _fingerprint(module)
            )

    def _close_open(self, model: nn.Module) -> None:
        """`model` trains again: its undecided forwards with no backward pass since were evaluation."""
        with self._lock:
            for key, pending in list(self._open.items()):
                if pending.model() is not model:
                    continue
                del self._open[key]
                if pending.backwards == self._backwards and pending.fingerprint == _fingerprint(
                    model
                ):
                    self.collector.add(pending.finding, count=True)

    def _note_grad_forward(
        self, module: nn.Module, location: Location | None, name: str
    ) -> _GradForwards | None:
        """A training-mode forward with gradients: evaluation when the same line runs again with
        no backward pass in between and none of those outputs is ever backpropagated."""
        key = (id(module), location)
        seen = self._grad_forwards.get(key)
        if seen is None:
            self._grad_forwards[key] = _GradForwards(name, location, self._backwards)
            return None
        if seen.backpropagated:
            return None
        if seen.backwards == self._backwards:
            seen.repeats += 1
            return seen
        seen.backwards = self._backwards
        return None

    def _watch_gradient(self, seen: _GradForwards, output: Any) -> None:
        tensor = layers.first_tensor(output)
        if tensor is None or not tensor.requires_grad:
            return

        def backpropagated(grad: torch.Tensor) -> None:
            seen.backpropagated = True

        tensor.register_hook(backpropagated)  # type: ignore[no-untyped-call]

    def _record_batch(self, call: _Call, norm: nn.Module, args: tuple[Any, ...]) -> None:
        tensor = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if tensor is None or tensor.dim() < 2:
            return
        size = int(tensor.shape[0])
        key = (id(call.root), call.location)
        with self._lock:
            seen = self._batches.get(key)
            if seen is None:
                loader = self._current_loader
                # The loader being iterated is the batches' source when its size matches.
                places = loader[1] if loader is not None and loader[0] == size else ()
                self._batches[key] = _BatchSizes(size, size, call.name, places)
            else:
                seen.smallest = min(seen.smallest, size)
                seen.largest = max(seen.largest, size)

    def _check_half(self, call: _Call, info: _ModelInfo) -> None:
        for _, norm in info.batch_norms:
            if not norm.training:
                continue
            stats = getattr(norm, "running_mean", None)
            weight = getattr(norm, "weight", None)
            dtype = (
                stats.dtype if isinstance(stats, torch.Tensor) else getattr(weight, "dtype", None)
            )
            if dtype in _HALF_DTYPES:
                name = "float16" if dtype == torch.float16 else "bfloat16"
                # Pinned at the cast, as the static rule is; the forward is the evidence.
                cast = self._cast_site(call.root, norm)
                also: tuple[tuple[Location, str], ...] = ()
                if cast is not None and call.location is not None:
                    also = ((call.location, "trains here in half precision"),)
                self._add(
                    make_finding(
                        "BN402",
                        cast or call.location,
                        also=also,
                        model=call.name,
                        dtype=name,
                    )
                )
                return

    def _cast_site(self, root: nn.Module, norm: nn.Module) -> Location | None:
        for module in (root, unwrap(root), norm):
            site = self._cast_sites.get(module)
            if site is not None:
                return site
        return None

    def _check_running_stats(
        self, module: nn.Module, info: _ModelInfo, location: Location | None, frame: Any
    ) -> None:
        untrained: list[str] = []
        nonfinite: list[str] = []
        for path, norm in info.batch_norms:
            if not layers.tracks_stats(norm):
                continue
            key = _stats_version(norm)
            if self._stats_seen.get(norm) == key:
                continue
            self._stats_seen[norm] = key
            state = layers.running_stats_state(norm)
            if state == "nonfinite":
                nonfinite.append(path)
            elif state == "untrained" and norm in self._load_sites:
                untrained.append(path)
        if not (untrained or nonfinite):
            return
        name = display_name(module, frame)
        root = type(info.inner).__name__
        if nonfinite:
            self._add(
                make_finding(
                    "BN502",
                    location,
                    model=name,
                    count=_layers(len(nonfinite)),
                    layer=layer_label(_inner_path(nonfinite[0], module, info.inner), root),
                )
            )
        if untrained:
            first = dict(info.batch_norms)[untrained[0]]
            loaded_at = self._load_sites.get(first)
            self._add(
                make_finding(
                    "BN501",
                    loaded_at or location,
                    also=((location, f"`{name}` evaluated here"),)
                    if loaded_at and location
                    else (),
                    model=name,
                    count=_layers(len(untrained)),
                    layer=layer_label(_inner_path(untrained[0], module, info.inner), root),
                )
            )

    def _internal_error(self, error: Exception) -> None:
        if not self._errors:
            sys.stderr.write(f"bnlint: warning: the runtime probe skipped a check: {error!r}\n")
        self._errors += 1

    def _pre_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        try:
            self._check_step(optimizer)
        except Exception as error:  # the probe must never break the script it observes
            self._internal_error(error)

    def _check_step(self, optimizer: torch.optim.Optimizer) -> None:
        # The common step (nothing pending, no eval-mode forward) costs a few dict checks.
        if self._open or self._recalibrating:
            owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
            self._resolve_pending(owned)
            # Norms this optimizer trains are no longer being re-calibrated.
            for norm in list(self._recalibrating):
                if any(id(p) in owned for p in norm.parameters(recurse=False)):
                    self._recalibrating.discard(norm)
        if self._trained:
            self._check_frozen_norms()
        if not self._eval_last:
            return
        stepped = {
            id(p) for group in optimizer.param_groups for p in group["params"] if p.grad is not None
        }
        location: Location | None = None
        for module in list(self._eval_last.keys()):
            if stepped and self._trains_eval_layers(module, stepped):
                location = location or Location.of(user_frame(sys._getframe(2)))
                self._add(
                    make_finding("BN102", location, model=self._eval_last.get(module, "model"))
                )

    def _resolve_pending(self, owned: set[int]) -> None:
        """An optimizer owning a model steps: its undecided forwards were part of this step
        when a backward pass followed them, else (validation between backward and step)
        evaluation. Other models' forwards stay undecided."""
        with self._lock:
            for key, pending in list(self._open.items()):
                model = pending.model()
                if model is None or not any(id(p) in owned for p in model.parameters()):
                    continue
                del self._open[key]
                if pending.backwards == self._backwards:
                    self.collector.add(pending.finding, count=True)

    def _trains_eval_layers(self, module: nn.Module, stepped: set[int]) -> bool:
        """The step updates parameters next to the eval-mode norms and dropouts (their block),
        not only a head trained on frozen features (the linear-classification protocol)."""
        info = self._info(module)
        parents = _parents(info.inner)
        for _, layer in info.mode_layers:
            parent = parents.get(layer)
            if parent is None or parent is info.inner:
                scope = list(layer.parameters()) + _previous_sibling_parameters(info.inner, layer)
            else:
                scope = list(parent.parameters())
            if any(id(p) in stepped for p in scope):
                return True
        return False

    def _check_frozen_norms(self) -> None:
        """BN104: a BatchNorm whose parameters are frozen still updated its running statistics
        in this training step, because its model is in training mode."""
        trained = list(self._trained.keys())
        self._trained.clear()
        for root in trained:
            self._trained_roots.add(root)
            # Statistics that change between two looks changed in the steps between: look at
            # the first steps, then every 32nd (a finding is reported once anyway).
            steps = self._steps_seen.get(root, 0) + 1
            self._steps_seen[root] = steps
            if steps > 4 and steps % 32:
                continue
            info = self._info(root)
            frozen: list[str] = []
            for path, norm in info.batch_norms:
                if not norm.training or not layers.tracks_stats(norm):
                    continue
                params = list(norm.parameters(recurse=False))
                if not params or any(p.requires_grad for p in params):
                    continue
                version = _stats_version(norm)
                before = self._frozen_seen.get(norm)
                self._frozen_seen[norm] = version
                if before is not None and before != version:
                    frozen.append(path)
            if frozen:
                name = type(info.inner).__name__
                # The static rule anchors the `train()` call; a model never switched is in
                # training mode since construction, so the step is the evidence.
                site = self._train_site(root) or Location.of(user_frame(sys._getframe(2)))
                self._add(
                    make_finding(
                        "BN104",
                        site,
                        model=name,
                        layer=layer_label(_inner_path(frozen[0], root, info.inner), name),
                        count=_layers(len(frozen)),
                    )
                )

    def _train_site(self, root: nn.Module) -> Location | None:
        for module in (root, unwrap(root)):
            site = self._train_sites.get(module)
            if site is not None:
                return site
        return None

    # -- wrappers -----------------------------------------------------------------------

    def _mark_loaded(self, model: nn.Module, frame: Any) -> None:
        location = Location.of(user_frame(frame))
        for sub in model.modules():
            if layers.is_batch_norm(sub):
                self._load_sites[sub] = location
                self._stats_seen.pop(sub, None)

    def _wrap_load_state_dict(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def load_state_dict(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
            result = original(module, *args, **kwargs)
            try:
                monitor._mark_loaded(module, sys._getframe(1))
            except Exception as error:  # the probe must never break the script it observes
                monitor._internal_error(error)
            return result

        return load_state_dict

    def _wrap_torch_load(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def load(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            # A whole pickled model brings its BatchNorm buffers as saved, trained or not.
            if isinstance(result, nn.Module):
                try:
                    monitor._mark_loaded(result, sys._getframe(1))
                except Exception as error:  # the probe must never break the script
                    monitor._internal_error(error)
            return result

        return load

    def _wrap_train(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def train(module: nn.Module, mode: bool = True) -> Any:
            caller = sys._getframe(1)
            # Only the user's own call: train() recurses into every child through here.
            if mode and not is_torch_frame(caller) and caller.f_code is not train.__code__:
                location = Location.of(user_frame(caller))
                if location is not None:
                    monitor._train_sites[module] = location
            return original(module, mode)

        return train

    def _wrap_cast(self, original: Callable[..., Any], name: str) -> Callable[..., Any]:
        monitor = self

        def cast(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
            result = original(module, *args, **kwargs)
            try:
                if name != "to" or any(
                    value in _HALF_DTYPES for value in (*args, *kwargs.values())
                ):
                    caller = sys._getframe(1)
                    if not is_torch_frame(caller):
                        location = Location.of(user_frame(caller))
                        if location is not None:
                            monitor._cast_sites[module] = location
            except Exception as error:  # the probe must never break the script it observes
                monitor._internal_error(error)
            return result

        return cast

    def _wrap_reset_running_stats(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def reset_running_stats(norm: nn.Module) -> Any:
            result = original(norm)
            # Construction resets them too (reset_parameters): only the user's call counts.
            if not is_torch_frame(sys._getframe(1)):
                monitor._recalibrating.add(norm)
            return result

        return reset_running_stats

    def _wrap_backward(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def backward(*args: Any, **kwargs: Any) -> Any:
            monitor._backwards += 1
            return original(*args, **kwargs)

        return backward

    def _wrap_loader_init(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def __init__(loader: Any, *args: Any, **kwargs: Any) -> None:
            original(loader, *args, **kwargs)
            try:
                caller = sys._getframe(1)
                if is_torch_frame(caller):
                    return
                site = Location.of(user_frame(caller))
                size = getattr(loader, "batch_size", None)
                if site is not None and isinstance(size, int):
                    value = keyword_value(site, "batch_size")
                    places = (value, site) if value else (site,)
                    monitor._loader_sites[loader] = (size, places)
            except Exception as error:  # the probe must never break the script it observes
                monitor._internal_error(error)

        return __init__

    def _wrap_loader_iter(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def __iter__(loader: Any) -> Any:
            # Batches seen in training from now on come from this loader (the next epoch's
            # `for batch in train_loader` starts it again after validation).
            monitor._current_loader = monitor._loader_sites.get(loader)
            return original(loader)

        return __iter__

    def _wrap_export(self, original: Callable[..., Any], name: str) -> Callable[..., Any]:
        monitor = self

        def export(*args: Any, **kwargs: Any) -> Any:
            model = args[0] if args else kwargs.get("model", kwargs.get("mod", kwargs.get("func")))
            caller = sys._getframe(1)
            if isinstance(model, nn.Module) and not is_torch_frame(caller):
                try:
                    monitor._check_export(model, name, user_frame(caller))
                except Exception as error:  # the probe must never break the script it observes
                    monitor._internal_error(error)
            return original(*args, **kwargs)

        return export

    def _check_export(self, model: nn.Module, export: str, frame: Any) -> None:
        info = self._info(model)
        training = [m for _, m in info.mode_layers if m.training]
        if not training or not info.inner.training:
            return
        has_bn = any(layers.is_batch_norm(m) for m in training)
        effect = (
            "normalizes with batch statistics instead of the learned running statistics"
            if has_bn
            else "keeps dropout active"
        )
        self._add(
            make_finding(
                "BN103",
                Location.of(frame),
                model=display_name(model, frame),
                export=export,
                effect=effect,
            )
        )

    # -- results ------------------------------------------------------------------------

    def _add(self, finding: Finding) -> None:
        self.collector.add(finding)

    def findings(self) -> list[Finding]:
        """Everything observed so far, with the checks that wait for the end of the run."""
        collector = Collector()
        for finding in self.collector.findings():
            collector.add(finding, count=True)
        for pending in list(self._open.values()):
            model = pending.model()
            if model is None or pending.fingerprint == _fingerprint(model):
                collector.add(pending.finding, count=True)
        for seen in list(self._grad_forwards.values()):
            if seen.repeats and not seen.backpropagated:
                finding = make_finding(
                    "BN101",
                    seen.location,
                    model=seen.model,
                    when="with gradients on and no backward pass through its outputs",
                    effect="BatchNorm normalizes each batch with its own statistics and "
                    "updates its running statistics, and dropout is active",
                )
                collector.add(replace(finding, count=seen.repeats + 1), count=True)
        for (_, location), sizes in list(self._batches.items()):
            batch_finding = self._batch_finding(sizes, location)
            if batch_finding is not None:
                collector.add(batch_finding)
        return collector.findings()

    def _batch_finding(self, sizes: _BatchSizes, location: Location | None) -> Finding | None:
        minimum = self.min_batch_size
        if sizes.largest < minimum:
            size = (
                str(sizes.largest)
                if sizes.smallest == sizes.largest
                else f"{sizes.smallest} to {sizes.largest}"
            )
            severity = Severity.ERROR if sizes.largest == 1 else Severity.WARNING
            advice = (
                "use a larger batch, or GroupNorm (SyncBatchNorm across devices) for small batches"
            )
        elif sizes.smallest == 1:
            size = f"1 (one batch; the others reached {sizes.largest})"
            severity = Severity.ERROR
            advice = "pass `drop_last=True` to the training DataLoader"
        else:
            return None
        # Pinned at the loader's `batch_size` value, as the static rule is, when it is known.
        anchor = sizes.loader[0] if sizes.loader else location
        also = [(place, "the training DataLoader") for place in sizes.loader[1:]]
        if location is not None and anchor != location:
            also.append((location, f"`{sizes.model}` trains on these batches here"))
        return make_finding(
            "BN301",
            anchor,
            also=tuple(also),
            severity=severity,
            model=sizes.model,
            size=size,
            minimum=str(minimum),
            advice=advice,
        )


def _layers(count: int) -> str:
    return "1 BatchNorm layer" if count == 1 else f"{count} BatchNorm layers"


def _fingerprint(model: nn.Module) -> tuple[tuple[int, int], ...]:
    """Which tensors the parameters hold and how often they were written: an optimizer step or
    an EMA update (in place or by assigning `.data`) changes it."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


def _parents(root: nn.Module) -> dict[nn.Module, nn.Module]:
    parents: dict[nn.Module, nn.Module] = {}
    for module in root.modules():
        for child in module.children():
            parents.setdefault(child, module)
    return parents


def _previous_sibling_parameters(root: nn.Module, layer: nn.Module) -> list[nn.Parameter]:
    children = list(root.children())
    for index, child in enumerate(children):
        if child is layer and index > 0:
            return list(children[index - 1].parameters())
    return []


def _inner_path(path: str, root: nn.Module, inner: nn.Module) -> str:
    """A path under a wrapper (`module.layer1.0`, `_orig_mod.bn`) as a path under the model."""
    if root is inner:
        return path
    for name, module in root.named_modules():
        if module is inner and path.startswith(name + "."):
            return path[len(name) + 1 :]
    return path


def _stats_version(norm: nn.Module) -> tuple[int, ...]:
    key: list[int] = []
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        tensor = getattr(norm, name, None)
        if isinstance(tensor, torch.Tensor):
            key.extend((id(tensor), tensor._version))
    return tuple(key)


_CALL_MACHINERY = frozenset(
    {"inner", "_call_impl", "_wrapped_call_impl", "__call__", "_compiled_call_impl"}
)


def _caller_of_module(frame: Any) -> Any:
    """The frame that called `module(...)`: the first one outside nn.Module's call machinery."""
    while frame is not None and frame.f_code.co_name in _CALL_MACHINERY and is_torch_frame(frame):
        frame = frame.f_back
    return frame
