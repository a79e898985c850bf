"""One forward pass, recorded: the order of module calls and which module fed which."""

from __future__ import annotations

import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from bnlint.probe.frames import Location, is_torch_frame
from bnlint.probe.layers import first_tensor, is_batch_norm


@dataclass
class ModuleCall:
    path: str
    module: nn.Module
    training: bool
    # The module that produced this call's first input (None: a functional op or the input).
    producer: ModuleCall | None = None
    input_shape: tuple[int, ...] | None = None
    output: weakref.ref[torch.Tensor] | None = None
    done: bool = False
    # For a norm: the line of the enclosing `forward` that called it (`x = self.bn(x)`).
    caller: Location | None = None


@dataclass
class Trace:
    calls: list[ModuleCall] = field(default_factory=list)
    output: Any = None
    # The innermost call that raised, when the forward failed.
    failed_in: ModuleCall | None = None
    error: BaseException | None = None

    def producer_of_output(self) -> ModuleCall | None:
        """The module call whose result is the model's (first) output tensor."""
        tensor = first_tensor(self.output)
        if tensor is None:
            return None
        for call in reversed(self.calls):
            if call.output is not None and call.output() is tensor:
                return call
        return None

    def called(self) -> set[int]:
        return {id(call.module) for call in self.calls}


def _weak(tensor: torch.Tensor | None) -> weakref.ref[torch.Tensor] | None:
    if tensor is None:
        return None
    try:
        return weakref.ref(tensor)
    except TypeError:
        return None


def _calling_line() -> Location | None:
    """The first frame outside torch above a forward pre-hook: the line that called the layer."""
    frame = sys._getframe(2)
    while frame is not None and is_torch_frame(frame):
        frame = frame.f_back  # type: ignore[assignment]
    return Location.of(frame)


def run_traced(
    model: nn.Module, inputs: tuple[Any, ...], kwargs: Mapping[str, Any] | None = None
) -> Trace:
    """Run `model(*inputs, **kwargs)` under no_grad with hooks on every module, then remove them.

    >>> run_traced(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), (x,)).calls[1].producer.path
    '0'
    """
    trace = Trace()
    stack: list[ModuleCall] = []
    # id(tensor) -> (weak tensor, call that produced it); weak, so memory stays one forward's worth.
    produced: dict[int, tuple[weakref.ref[torch.Tensor], ModuleCall]] = {}
    paths = {id(module): path for path, module in model.named_modules()}
    handles = []

    def pre_hook(module: nn.Module, args: tuple[Any, ...]) -> None:
        tensor = first_tensor(args)
        producer = None
        if tensor is not None:
            entry = produced.get(id(tensor))
            if entry is not None and entry[0]() is tensor:
                producer = entry[1]
        call = ModuleCall(
            paths.get(id(module), type(module).__name__),
            module,
            module.training,
            producer,
            tuple(tensor.shape) if tensor is not None else None,
            caller=_calling_line() if is_batch_norm(module) else None,
        )
        trace.calls.append(call)
        stack.append(call)

    def post_hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if not stack:
            return
        call = stack.pop()
        call.done = True
        tensor = first_tensor(output)
        ref = _weak(tensor)
        if tensor is not None and ref is not None:
            call.output = ref
            produced[id(tensor)] = (ref, call)
        if output is None and trace.failed_in is None:
            # always_call hooks see None when the forward raised: the innermost one failed.
            trace.failed_in = call

    for module in model.modules():
        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(post_hook, always_call=True))
    try:
        with torch.no_grad():
            trace.output = model(*inputs, **(kwargs or {}))
    except Exception as error:
        trace.error = error
    finally:
        for handle in handles:
            handle.remove()
    return trace
