"""Where each module was constructed, and which modules received loaded weights."""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

from bnlint.probe.frames import Location, user_frame

_lock = threading.Lock()
_active = 0
_original_init: Any = None
_original_load: Any = None
SITES: weakref.WeakKeyDictionary[nn.Module, Location] = weakref.WeakKeyDictionary()
LOADED: weakref.WeakSet[nn.Module] = weakref.WeakSet()


def _construction_frame(module: nn.Module) -> Any:
    """Skip the `__init__` frames of `module` itself: the site is the line that called the class."""
    frame = sys._getframe(2)
    while (
        frame is not None
        and frame.f_code.co_name == "__init__"
        and frame.f_locals.get("self") is module
    ):
        frame = frame.f_back
    return user_frame(frame)


def _recording_init(module: nn.Module, *args: Any, **kwargs: Any) -> None:
    _original_init(module, *args, **kwargs)
    location = Location.of(_construction_frame(module))
    if location is not None:
        with contextlib.suppress(TypeError):  # a module class that is unhashable
            SITES[module] = location


def _recording_load(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
    result = _original_load(module, *args, **kwargs)
    for sub in module.modules():
        LOADED.add(sub)
    return result


@contextmanager
def recording() -> Iterator[None]:
    """Record construction sites and `load_state_dict` targets while the block runs."""
    global _active, _original_init, _original_load
    with _lock:
        if _active == 0:
            _original_init = nn.Module.__init__
            _original_load = nn.Module.load_state_dict
            nn.Module.__init__ = functools.wraps(_original_init)(_recording_init)  # type: ignore[method-assign]
            nn.Module.load_state_dict = functools.wraps(_original_load)(_recording_load)  # type: ignore[method-assign]
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                nn.Module.__init__ = _original_init  # type: ignore[method-assign]
                nn.Module.load_state_dict = _original_load  # type: ignore[method-assign]


def site_of(module: nn.Module) -> Location | None:
    return SITES.get(module)


def was_loaded(module: nn.Module) -> bool:
    return module in LOADED
