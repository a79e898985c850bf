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
from torch import nn

from bnlint.diagnostics import Finding, Severity
from bnlint.probe import layers
from bnlint.probe.findings import Collector, make_finding
from bnlint.probe.frames import Location, is_torch_frame, user_frame
from bnlint.probe.names import display_name, unwrap

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


@dataclass
class _Call:
    """The outermost forward in progress on this thread."""

    root: nn.Module
    location: Location | None
    name: str
    training: bool


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
        self._loaded: weakref.WeakSet[nn.Module] = weakref.WeakSet()
        self._stats_seen: weakref.WeakKeyDictionary[nn.Module, tuple[int, ...]] = (
            weakref.WeakKeyDictionary()
        )
        # Roots whose last forward (with gradients) ran with every mode-dependent layer in eval.
        self._eval_last: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()
        # BN101 candidates: a training-mode forward without gradients is evaluation unless an
        # optimizer steps before the model's next forward with gradients (a GAN's generator
        # making fakes, an EMA teacher, a momentum encoder are all part of a training step).
        self._open: dict[tuple[int, Location | None], tuple[int, Finding]] = {}
        self._batches: dict[tuple[int, Location | None], _BatchSizes] = {}
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
        import torch.export
        import torch.jit
        import torch.onnx

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
        if self._warning_filter in warnings.filters:
            warnings.filters.remove(self._warning_filter)
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        for owner, attribute, original in reversed(self._patches):
            setattr(owner, attribute, original)
        self._patches.clear()

    def _patch(self, owner: Any, attribute: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, attribute, None)
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
            local.call = None

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
                self._close_open(id(module))
            if grad and not info.inner.training:
                self._eval_last[module] = display_name(module, frame)
            elif module in self._eval_last:
                del self._eval_last[module]
            self._check_running_stats(module, info, location, frame)
            return None
        if module in self._eval_last:
            del self._eval_last[module]
        if grad and self._open:
            self._close_open(id(module))
        if not grad:
            if info.inner.training:
                self._note_no_grad_training(module, training_layers, location, frame)
            return None
        call = _Call(module, location, display_name(module, frame), training=True)
        if layers.is_batch_norm(module) and module.training:
            self._record_batch(call, module, args)
        self._check_half(call, info)
        return call

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
            if key in self._open:
                owner, finding = self._open[key]
                self._open[key] = (owner, replace(finding, count=finding.count + 1))
                return
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
            self._open[key] = (id(module), finding)

    def _close_open(self, owner: int) -> None:
        """The model trains again with no optimizer step since: its earlier forwards were evaluation."""
        with self._lock:
            for key in [key for key, (o, _) in self._open.items() if o == owner]:
                self.collector.add(self._open.pop(key)[1], count=True)

    def _record_batch(self, call: _Call, norm: nn.Module, args: tuple[Any, ...]) -> None:
        tensor = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if tensor is None or tensor.dim() < 2:
            return
        size = int(tensor.shape[0])
        key = (id(call.root), call.location)
        with self._lock:
            seen = self._batches.get(key)
            if seen is None:
                self._batches[key] = _BatchSizes(size, size, call.name)
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
                self._add(make_finding("BN402", call.location, model=call.name, dtype=name))
                return

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
            elif state == "untrained" and norm in self._loaded:
                untrained.append(path)
        name = display_name(module, frame) if (untrained or nonfinite) else ""
        if nonfinite:
            self._add(
                make_finding(
                    "BN502", location, model=name, count=_layers(len(nonfinite)), layer=nonfinite[0]
                )
            )
        if untrained:
            self._add(
                make_finding(
                    "BN501", location, model=name, count=_layers(len(untrained)), layer=untrained[0]
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
        if self._open:
            with self._lock:
                self._open.clear()
        pending = list(self._eval_last.keys())
        if not pending:
            return
        stepped = {
            id(p) for group in optimizer.param_groups for p in group["params"] if p.grad is not None
        }
        if not stepped:
            return
        location = None
        for module in pending:
            if any(id(p) in stepped for p in module.parameters()):
                location = location or Location.of(user_frame(sys._getframe(1)))
                self._add(
                    make_finding("BN102", location, model=self._eval_last.get(module, "model"))
                )

    # -- wrappers -----------------------------------------------------------------------

    def _wrap_load_state_dict(self, original: Callable[..., Any]) -> Callable[..., Any]:
        monitor = self

        def load_state_dict(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
            result = original(module, *args, **kwargs)
            for sub in module.modules():
                if layers.is_batch_norm(sub):
                    monitor._loaded.add(sub)
            return result

        return load_state_dict

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
        for _, finding in list(self._open.values()):
            collector.add(finding, count=True)
        for (_, location), sizes in list(self._batches.items()):
            finding = self._batch_finding(sizes, location)
            if finding is not None:
                collector.add(finding)
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
        return make_finding(
            "BN301",
            location,
            severity=severity,
            model=sizes.model,
            size=size,
            minimum=str(minimum),
            advice=advice,
        )


def _layers(count: int) -> str:
    return "1 BatchNorm layer" if count == 1 else f"{count} BatchNorm layers"


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
