"""`expect_eval(model)`: fail loudly when a norm or dropout layer runs in training mode."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from bnlint.probe import layers
from bnlint.probe.frames import Location, user_frame
from bnlint.probe.names import layer_label, unwrap


class TrainingModeError(AssertionError):
    """A layer ran in training mode inside an `expect_eval` block; the message names it."""


@contextmanager
def expect_eval(model: nn.Module) -> Iterator[None]:
    """Raise TrainingModeError at the end of the block if a mode-dependent layer of `model` ran in training mode.

    >>> with expect_eval(model):
    ...     predict(model, images)   # forgot model.eval() -> TrainingModeError naming `bn1`
    """
    __tracebackhide__ = True  # pytest shows the user's `with` line, not this frame
    root = type(unwrap(model)).__name__
    seen: dict[str, Location | None] = {}
    handles = []

    def make_hook(path: str):  # type: ignore[no-untyped-def]
        def hook(module: nn.Module, args: object) -> None:
            if module.training and path not in seen:
                seen[path] = Location.of(user_frame(sys._getframe(1)))

        return hook

    for path, module in layers.mode_dependent_layers(model):
        handles.append(module.register_forward_pre_hook(make_hook(path)))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
    if seen:
        first, location = next(iter(seen.items()))
        where = f" (called at {location.display()}:{location.line})" if location else ""
        others = f" and {len(seen) - 1} more layer(s)" if len(seen) > 1 else ""
        raise TrainingModeError(
            f"`{layer_label(first, root)}` of `{root}` ran in training mode{where}{others}; "
            f"call `.eval()` on the model before inference"
        )
