"""`check_model`: probe one model on example inputs and return findings (the model is left as found)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from bnlint.diagnostics import Finding, Severity
from bnlint.probe import layers, sites
from bnlint.probe.findings import Collector, make_finding
from bnlint.probe.frames import Location, user_frame
from bnlint.probe.names import layer_label, unwrap
from bnlint.probe.trace import ModuleCall, Trace, run_traced


class ProbeError(RuntimeError):
    """The probe could not run the model (the forward pass failed for another reason)."""


def materialize_lazy(model: nn.Module, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Give Lazy* modules their shapes with one eval-mode forward, the way a first batch would.

    Their parameters and buffers do not exist before that forward, so nothing could be
    compared or restored. The forward runs in eval mode and under no_grad, with the RNG
    state and every mode flag restored, so nothing else about the model changes.
    """
    from torch.nn.modules.lazy import LazyModuleMixin

    lazy = [m for m in model.modules() if isinstance(m, LazyModuleMixin)]
    if not any(m.has_uninitialized_params() for m in lazy):
        return
    modes = [(module, module.training) for module in model.modules()]
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            model.eval()
            model(*args, **kwargs)
    except Exception as error:
        raise ProbeError(
            f"`{type(model).__name__}` has Lazy* layers and the forward pass that would "
            f"initialize them failed: {error}"
        ) from error
    finally:
        for module, training in modes:
            module.training = training


@contextmanager
def preserved(model: nn.Module) -> Iterator[None]:
    """Leave `model` exactly as found: every module's mode, every buffer, the RNG state."""
    modes = [(module, module.training) for module in model.modules()]
    # An uninitialized (lazy) buffer has no data to save; materialize_lazy runs first.
    buffers = [
        (buffer, buffer.detach().clone())
        for buffer in model.buffers()
        if not isinstance(buffer, nn.parameter.UninitializedBuffer)
    ]
    devices = sorted({b.device.index or 0 for b, _ in buffers if b.device.type == "cuda"})
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            with torch.no_grad():
                for buffer, saved in buffers:
                    if buffer.shape == saved.shape:
                        buffer.copy_(saved)
            # Set the flags directly: a `train()` override may do more than switch modes.
            for module, training in modes:
                module.training = training


def _set_mode(model: nn.Module, training: bool) -> None:
    model.train(training)


class _Checker:
    def __init__(
        self,
        model: nn.Module,
        inputs: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        fallback: Location | None,
        expect_trained: bool | None,
    ):
        # Wrappers (DataParallel, DDP, torch.compile, FSDP) hide the graph from torch.fx and
        # the paths from the user's class: trace the model inside, as the user wrote it.
        self.model = unwrap(model)
        self.inner = self.model
        self.inputs = inputs
        self.kwargs = dict(kwargs)
        self.fallback = fallback
        self.expect_trained = expect_trained
        self.collector = Collector()
        self.name = type(self.inner).__name__

    def site(self, module: nn.Module) -> Location | None:
        return sites.site_of(module) or self.fallback

    def label(self, path: str) -> str:
        """A module path as the user's class writes it: `Net.layer1[0].bn1`."""
        return layer_label(path, self.name)

    def add(
        self,
        code: str,
        module: nn.Module,
        *,
        severity: Severity | None = None,
        location: Location | None = None,
        also: tuple[tuple[Location, str], ...] = (),
        **fields: str,
    ) -> None:
        for key in ("layer", "norm", "block"):
            if key in fields and fields[key] != "its input":
                fields[key] = layer_label(fields[key], self.name)
        finding = make_finding(
            code, location or self.site(module), severity=severity, also=also, **fields
        )
        self.collector.add(finding)

    def run(self) -> list[Finding]:
        self.check_running_stats()
        _set_mode(self.model, False)
        eval_trace = run_traced(self.model, self.inputs, self.kwargs)
        if eval_trace.error is not None:
            if not self.check_shape_error(eval_trace):
                raise ProbeError(
                    f"the forward pass of `{self.name}` failed: {eval_trace.error}"
                ) from eval_trace.error
            return self.collector.findings()
        self.check_modes(eval_trace)
        self.check_flow(eval_trace)
        self.check_sequence_models(eval_trace)
        self.check_fx()
        self.check_batch_dependence(eval_trace)
        _set_mode(self.model, True)
        train_trace = run_traced(self.model, self.inputs, self.kwargs)
        self.check_output_norm(eval_trace, None if train_trace.error else train_trace)
        return self.collector.findings()

    # -- BN501 / BN502 ----------------------------------------------------------------

    def check_running_stats(self) -> None:
        nonfinite: list[tuple[str, nn.Module]] = []
        untrained: list[tuple[str, nn.Module]] = []
        for path, norm in layers.batch_norm_layers(self.model):
            if not layers.tracks_stats(norm):
                continue
            state = layers.running_stats_state(norm)
            if state == "nonfinite":
                nonfinite.append((path, norm))
            elif state == "untrained" and (
                self.expect_trained or (self.expect_trained is None and sites.was_loaded(norm))
            ):
                untrained.append((path, norm))
        for code, found in (("BN502", nonfinite), ("BN501", untrained)):
            if found:
                path, norm = found[0]
                count = "1 BatchNorm layer" if len(found) == 1 else f"{len(found)} BatchNorm layers"
                # BN501 is pinned where the weights arrived without the BatchNorm buffers.
                loaded_at = sites.load_site(norm) if code == "BN501" else None
                self.add(code, norm, location=loaded_at, model=self.name, count=count, layer=path)

    # -- BN204 --------------------------------------------------------------------------

    def check_shape_error(self, trace: Trace) -> bool:
        call = trace.failed_in
        if call is None or not layers.is_batch_norm(call.module) or call.input_shape is None:
            return False
        norm = call.module
        shape = call.input_shape
        expected_dims = _expected_dims(norm)
        features = int(getattr(norm, "num_features", 0))
        expected = f"{features} channels" + (
            f" in {expected_dims}-D input" if expected_dims else ""
        )
        actual = f"{shape[1] if len(shape) > 1 else '?'} channels in {len(shape)}-D input"
        producer = call.producer
        layer = producer.path if producer is not None else "its input"
        if len(shape) > 1 and shape[1] != features:
            suggestion = f"`num_features={shape[1]}`"
        else:
            suggestion = f"a BatchNorm{max(len(shape) - 2, 1)}d"
        self.add(
            "BN204",
            norm,
            norm=call.path,
            expected=expected,
            layer=layer,
            actual=actual,
            suggestion=suggestion,
        )
        return True

    # -- modes and BN503 ----------------------------------------------------------------

    def check_modes(self, trace: Trace) -> None:
        for call in trace.calls:
            if call.training and layers.is_mode_dependent(call.module):
                self.add(
                    "BN503",
                    call.module,
                    model=self.name,
                    cause=f"`{self.label(call.path)}` still runs in training mode after `eval()`",
                    advice=f"make the `train()` override that switches `{self.label(call.path)}` "
                    "honor `mode=False`",
                )

    def check_batch_dependence(self, trace: Trace) -> None:
        batched = layers.first_tensor(trace.output)
        batch = _batch_size((*self.inputs, *self.kwargs.values()))
        if (
            batched is None
            or batch is None
            or batch < 2
            or batched.dim() == 0
            or batched.shape[0] != batch
        ):
            return
        # A model random at inference (VAE sampling, noise injection) gives another output for
        # the same batch: compare alone-vs-batched only when the batched forward repeats.
        with torch.no_grad():
            try:
                again = layers.first_tensor(self.model(*self.inputs, **self.kwargs))
            except Exception:
                return
        if (
            again is None
            or again.shape != batched.shape
            or not torch.equal(again.detach(), batched.detach())
        ):
            return
        single_inputs = tuple(_first_sample(value, batch) for value in self.inputs)
        single_kwargs = {key: _first_sample(value, batch) for key, value in self.kwargs.items()}
        with torch.no_grad():
            try:
                single = layers.first_tensor(self.model(*single_inputs, **single_kwargs))
            except Exception:
                return
        if (
            single is None
            or single.shape[1:] != batched.shape[1:]
            or not single.is_floating_point()
        ):
            return
        expected = batched[:1].float()
        if not bool(torch.isfinite(expected).all()):
            return  # non-finite outputs compare unequal whatever the batch (BN502 explains them)
        scale = float(expected.abs().max()) if expected.numel() else 0.0
        if torch.allclose(single.float(), expected, rtol=1e-3, atol=1e-4 * max(1.0, scale)):
            return
        culprit = self.batch_statistics_layer(trace)
        if culprit is not None:
            self.add(
                "BN503",
                culprit.module,
                model=self.name,
                cause=f"`{self.label(culprit.path)}` has `track_running_stats=False`, so it uses "
                "batch statistics in eval too",
                advice=f"construct `{self.label(culprit.path)}` with `track_running_stats=True` "
                "(the default)",
            )
        elif not any(
            call.training and layers.is_mode_dependent(call.module) for call in trace.calls
        ):
            self.add(
                "BN503",
                self.inner,
                model=self.name,
                cause="some layer or forward code mixes the samples of a batch in eval mode",
                advice="find the layer that reduces over the batch dimension and make it per-sample in eval",
            )

    def batch_statistics_layer(self, trace: Trace) -> ModuleCall | None:
        for call in trace.calls:
            module = call.module
            if layers.is_batch_norm(module) and not getattr(module, "track_running_stats", True):
                return call
        return None

    # -- BN201 / BN203 ------------------------------------------------------------------

    def check_output_norm(self, eval_trace: Trace, train_trace: Trace | None) -> None:
        last = eval_trace.producer_of_output()
        if last is None or not layers.is_batch_norm(last.module):
            return
        if layers.is_embedding_norm(last.module):
            return  # an SSL projector or an ArcFace-style embedding head, not a class decision
        if last.producer is None or not isinstance(last.producer.module, nn.Linear):
            return
        if train_trace is not None:
            train_last = train_trace.producer_of_output()
            if train_last is None or train_last.module is not last.module:
                return  # a BNNeck: training returns another head's output
        called = eval_trace.called()
        if any(
            id(m) not in called and any(True for _ in m.parameters(recurse=False))
            for m in self.model.modules()
        ):
            return  # a head that eval mode skips: the normalized output is an embedding
        # The static rule anchors a norm applied in `forward` at that call: name it too, so a
        # `--probe-report` confirms the static finding whichever of the two it is pinned to.
        also: tuple[tuple[Location, str], ...] = ()
        if last.caller is not None and last.caller != self.site(last.module):
            also = ((last.caller, f"`{layer_label(last.path, self.name)}` applied here"),)
        self.add("BN201", last.module, also=also, layer=last.path, model=self.name)

    def check_flow(self, trace: Trace) -> None:
        for call in trace.calls:
            producer = call.producer
            if (
                producer is not None
                and layers.is_batch_norm(call.module)
                and layers.is_dropout(producer.module)
                and float(getattr(producer.module, "p", 0.0)) > 0
            ):
                self.add("BN203", producer.module, layer=producer.path, norm=call.path)

    # -- BN205 --------------------------------------------------------------------------

    def check_sequence_models(self, trace: Trace) -> None:
        sequence_blocks = [
            (path, module)
            for path, module in self.model.named_modules()
            if any(layers.is_sequence_module(sub) for sub in module.children())
        ]
        for call in trace.calls:
            if not isinstance(call.module, nn.BatchNorm1d) or call.input_shape is None:
                continue
            for path, block in sequence_blocks:
                if any(sub is call.module for sub in block.modules()):
                    self.add("BN205", call.module, layer=call.path, block=path)
                    break

    # -- BN202 (needs every consumer of a layer's output: torch.fx) ---------------------

    def check_fx(self) -> None:
        try:
            import torch.fx

            concrete = {key: value for key, value in self.kwargs.items() if value is None}
            graph = torch.fx.symbolic_trace(self.model, concrete_args=concrete or None).graph
        except Exception:
            return
        modules = dict(self.model.named_modules())
        for node in graph.nodes:
            if node.op != "call_module":
                continue
            layer: nn.Module | None = modules.get(str(node.target))
            if layer is None or not isinstance(layer, (*layers.CONVS, nn.Linear)):
                continue
            if getattr(layer, "bias", None) is None or len(node.users) != 1:
                continue
            user = next(iter(node.users))
            norm = modules.get(str(user.target)) if user.op == "call_module" else None
            if norm is None or not layers.is_batch_norm(norm):
                continue
            channels = getattr(layer, "out_channels", getattr(layer, "out_features", None))
            if channels == getattr(norm, "num_features", None):
                self.add("BN202", layer, layer=str(node.target), norm=str(user.target))


def _expected_dims(norm: nn.Module) -> str:
    name = type(norm).__name__
    for dims, suffix in (("4", "2d"), ("5", "3d")):
        if name.endswith(suffix):
            return dims
    return "2-D or 3" if name.endswith("1d") else ""


def _batch_size(inputs: tuple[Any, ...]) -> int | None:
    tensor = layers.first_tensor(inputs)
    return int(tensor.shape[0]) if tensor is not None and tensor.dim() > 0 else None


def _first_sample(value: Any, batch: int) -> Any:
    if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch:
        return value[:1]
    return value


def check_model(
    model: nn.Module,
    *example_inputs: Any,
    expect_trained: bool | None = None,
    example_kwargs: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Run `model` on `example_inputs` in eval and training mode and return the findings.

    >>> [f.code for f in check_model(nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4)), torch.randn(8, 8))]
    ['BN201']
    The model is never trained and is left exactly as found (Lazy* layers are initialized by
    one eval-mode forward first). `example_kwargs` are passed by keyword, for models that take
    a dict of tensors. With `expect_trained=True`, BatchNorm layers whose running statistics
    were never updated are reported (BN501).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"check_model expects an nn.Module, got {type(model).__name__}")
    fallback = Location.of(user_frame(sys._getframe(1)))
    inputs = tuple(example_inputs)
    kwargs = dict(example_kwargs or {})
    materialize_lazy(unwrap(model), inputs, kwargs)
    with preserved(model):
        return _Checker(model, inputs, kwargs, fallback, expect_trained).run()
