"""`bnlint probe TARGET`: import a factory, build the model (recording sites), probe it."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import Any

from bnlint.diagnostics import Finding


class TargetError(Exception):
    """TARGET or an option cannot be used; the message says why."""


_DTYPES = (
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "long",
    "float",
    "double",
    "half",
)


def parse_shapes(values: Sequence[str]) -> list[tuple[int, ...]]:
    """`("8,3,224,224",)` -> `[(8, 3, 224, 224)]`; no value means one 8x3x224x224 image batch."""
    if not values:
        return [(8, 3, 224, 224)]
    shapes = []
    for value in values:
        try:
            shape = tuple(int(part) for part in value.replace("x", ",").split(",") if part.strip())
        except ValueError:
            raise TargetError(
                f"--input-shape `{value}` is not a list of integers like 8,3,224,224"
            ) from None
        if not shape or any(size < 1 for size in shape):
            raise TargetError(f"--input-shape `{value}` needs positive sizes")
        shapes.append(shape)
    return shapes


def load_factory(target: str) -> Any:
    """`pkg.module:factory` or `path/to/file.py:factory` -> the callable."""
    location, sep, attribute = target.rpartition(":")
    if not sep or not location or not attribute:
        raise TargetError(f"TARGET `{target}` must be `module:factory` or `path.py:factory`")
    if location.endswith(".py") or os.sep in location or "/" in location:
        path = os.path.abspath(location)
        if not os.path.isfile(path):
            raise TargetError(f"file `{location}` does not exist")
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TargetError(f"cannot import `{location}`")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(location)
        except ImportError as error:
            raise TargetError(f"cannot import `{location}`: {error}") from None
    factory = module
    for part in attribute.split("."):
        try:
            factory = getattr(factory, part)
        except AttributeError:
            raise TargetError(f"`{location}` has no attribute `{attribute}`") from None
    if not callable(factory):
        raise TargetError(f"`{target}` is not callable")
    return factory


def probe_target(
    target: str,
    shapes: Sequence[tuple[int, ...]],
    *,
    dtype: str = "float32",
    device: str = "cpu",
    kwargs: dict[str, Any] | None = None,
) -> list[Finding]:
    import torch
    from torch import nn

    from bnlint.probe import sites
    from bnlint.probe.model import ProbeError, check_model

    if dtype not in _DTYPES:
        raise TargetError(f"--dtype `{dtype}` is not one of {', '.join(_DTYPES)}")
    torch_dtype = getattr(torch, dtype)
    try:
        torch_device = torch.device(device)
    except RuntimeError as error:
        raise TargetError(f"--device `{device}`: {error}") from None
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise TargetError("--device cuda: CUDA is not available")
    factory = load_factory(target)
    with sites.recording():
        model = factory(**(kwargs or {}))
    if not isinstance(model, nn.Module):
        raise TargetError(f"`{target}` returned {type(model).__name__}, not an nn.Module")
    model.to(torch_device)
    inputs = [
        torch.randn(shape, device=torch_device).to(torch_dtype)
        if torch_dtype.is_floating_point
        else torch.randint(0, 2, shape, device=torch_device, dtype=torch_dtype)
        for shape in shapes
    ]
    try:
        return check_model(model, *inputs)
    except ProbeError as error:
        raise TargetError(str(error)) from None
