"""Where each module was constructed, and which modules received loaded weights."""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import torch
from torch import nn

from bnlint.probe.frames import Location, user_frame

_lock = threading.Lock()
_active = 0
_original_init: Any = None
_original_load: Any = None
_original_torch_load: Any = None
SITES: weakref.WeakKeyDictionary[nn.Module, Location] = weakref.WeakKeyDictionary()
# Modules that received weights, and the user's line that loaded them.
LOADED: weakref.WeakKeyDictionary[nn.Module, Location | None] = weakref.WeakKeyDictionary()


def _construction_frame(module: nn.Module) -> FrameType | None:
    """Skip the `__init__` frames of `module` itself: the site is the line that called the class."""
    frame: FrameType | None = sys._getframe(2)
    while (
        frame is not None
        and frame.f_code.co_name == "__init__"
        and frame.f_locals.get("self") is module
    ):
        frame = frame.f_back
    return user_frame(frame)


def mark_loaded(model: nn.Module, location: Location | None) -> None:
    """Every module of `model` received weights at `location` (a load_state_dict, a torch.load)."""
    for sub in model.modules():
        with contextlib.suppress(TypeError):
            LOADED[sub] = location


def _recording_init(module: nn.Module, *args: Any, **kwargs: Any) -> None:
    _original_init(module, *args, **kwargs)
    location = Location.of(_construction_frame(module))
    if location is not None:
        with contextlib.suppress(TypeError):  # a module class that is unhashable
            SITES[module] = location


def _recording_load(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
    result = _original_load(module, *args, **kwargs)
    mark_loaded(module, Location.of(user_frame(sys._getframe(1))))
    return result


def _recording_torch_load(*args: Any, **kwargs: Any) -> Any:
    result = _original_torch_load(*args, **kwargs)
    # A whole pickled model: its BatchNorm buffers are whatever was saved, trained or not.
    if isinstance(result, nn.Module):
        mark_loaded(result, Location.of(user_frame(sys._getframe(1))))
    return result


@contextmanager
def recording() -> Iterator[None]:
    """Record construction sites and loaded weights (load_state_dict, torch.load) in the block."""
    global _active, _original_init, _original_load, _original_torch_load
    with _lock:
        if _active == 0:
            _original_init = nn.Module.__init__
            _original_load = nn.Module.load_state_dict
            _original_torch_load = torch.load
            nn.Module.__init__ = functools.wraps(_original_init)(_recording_init)  # type: ignore[method-assign,assignment]
            nn.Module.load_state_dict = functools.wraps(_original_load)(_recording_load)  # type: ignore[method-assign,assignment]
            torch.load = functools.wraps(_original_torch_load)(_recording_torch_load)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                nn.Module.__init__ = _original_init  # type: ignore[method-assign]
                nn.Module.load_state_dict = _original_load  # type: ignore[method-assign]
                torch.load = _original_torch_load


def site_of(module: nn.Module) -> Location | None:
    return SITES.get(module)


def was_loaded(module: nn.Module) -> bool:
    return module in LOADED


def load_site(module: nn.Module) -> Location | None:
    """The user's line that loaded weights into `module`, when known."""
    return LOADED.get(module)
