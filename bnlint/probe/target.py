"""`bnlint probe TARGET`: import a factory, build the model (recording sites), probe it."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    "bool",
)


def parse_shapes(values: Sequence[str]) -> list[tuple[int, ...]]:
    """`("8,3,224,224",)` -> `[(8, 3, 224, 224)]`; no value means one 8x3x224x224 image batch."""
    if not values:
        return [(8, 3, 224, 224)]
    shapes = []
    for value in values:
        # `8,3,224,224` or `8x3x224x224`; every part must be a number (`4,x` is a mistake,
        # not the shape (4,)).
        parts = [part.strip() for part in re.split(r"[,x]", value.strip().strip("()[]"))]
        if parts and parts[-1] == "" and value.strip().endswith(","):
            parts.pop()  # `8,` is the one-element tuple a Python user would write
        try:
            shape = tuple(int(part) for part in parts)
        except ValueError:
            raise TargetError(
                f"--input-shape `{value}` is not a list of integers like 8,3,224,224"
            ) from None
        if not shape or any(size < 1 for size in shape):
            raise TargetError(f"--input-shape `{value}` needs positive sizes")
        shapes.append(shape)
    return shapes


@dataclass
class InputSpec:
    """Example inputs described on the command line: positional and keyword tensors."""

    args: list[dict[str, Any]] = field(default_factory=list)
    kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _tensor_spec(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, list):
        value = {"shape": value}
    if not isinstance(value, dict) or not isinstance(value.get("shape"), list):
        raise TargetError(
            f"--input-json: {where} must be a shape like [8, 16] or "
            '{"shape": [8, 16], "dtype": "int64", "high": 1000}'
        )
    shape = value["shape"]
    if not shape or not all(isinstance(size, int) and size >= 1 for size in shape):
        raise TargetError(f"--input-json: {where} needs positive integer sizes, got {shape}")
    dtype = value.get("dtype")
    if dtype is not None and dtype not in _DTYPES:
        raise TargetError(
            f"--input-json: {where} dtype `{dtype}` is not one of {', '.join(_DTYPES)}"
        )
    high = value.get("high", 2)
    if not isinstance(high, int) or high < 1:
        raise TargetError(f"--input-json: {where} `high` must be a positive integer")
    return {"shape": tuple(shape), "dtype": dtype, "high": high}


def parse_input_json(text: str) -> InputSpec:
    """`{"input_ids": {"shape": [2, 16], "dtype": "int64", "high": 1000}, "mask": [2, 16]}`
    (keyword inputs), a list of such specs (positional), or a file holding either."""
    if not text.lstrip().startswith(("{", "[")) and os.path.isfile(text):
        with open(text, encoding="utf-8") as handle:
            text = handle.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TargetError(f"--input-json is not valid JSON: {error}") from None
    if isinstance(data, list):
        if data and all(isinstance(item, (list, dict)) for item in data):
            return InputSpec(args=[_tensor_spec(item, f"input {i}") for i, item in enumerate(data)])
        return InputSpec(args=[_tensor_spec(data, "the input")])
    if isinstance(data, dict) and data:
        return InputSpec(kwargs={str(k): _tensor_spec(v, f"`{k}`") for k, v in data.items()})
    raise TargetError("--input-json must be a JSON object (keyword inputs) or a list (positional)")


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


def _to_device(value: Any, device: Any, dtype: Any) -> Any:
    """Move the factory's example inputs; floating tensors also take `--dtype` when given."""
    import torch

    if isinstance(value, torch.Tensor):
        if dtype is not None and value.is_floating_point():
            return value.to(device=device, dtype=dtype)
        return value.to(device=device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device, dtype) for item in value)
    if isinstance(value, dict):
        return {key: _to_device(item, device, dtype) for key, item in value.items()}
    return value


def probe_target(
    target: str,
    shapes: Sequence[tuple[int, ...]] | None,
    *,
    dtype: str | None = None,
    device: str = "cpu",
    kwargs: dict[str, Any] | None = None,
    inputs_json: InputSpec | None = None,
    expect_trained: bool | None = None,
) -> list[Finding]:
    """Build TARGET's model and probe it.

    Inputs come from the factory when it returns `(model, example_inputs)` (a tensor, a tuple
    of positional inputs, or a dict of keyword inputs), else from `inputs_json`, else random
    tensors of `shapes`. `dtype` casts the model's floating parameters and the floating inputs.
    """
    import torch
    from torch import nn

    from bnlint.probe import sites
    from bnlint.probe.model import ProbeError, check_model

    if dtype is not None and dtype not in _DTYPES:
        raise TargetError(f"--dtype `{dtype}` is not one of {', '.join(_DTYPES)}")
    torch_dtype = getattr(torch, dtype) if dtype is not None else None
    try:
        torch_device = torch.device(device)
    except RuntimeError as error:
        raise TargetError(f"--device `{device}`: {error}") from None
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise TargetError("--device cuda: CUDA is not available")
    factory = load_factory(target)
    with sites.recording():
        built = factory(**(kwargs or {}))
    example: Any = None
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], nn.Module):
        built, example = built
    if not isinstance(built, nn.Module):
        raise TargetError(f"`{target}` returned {type(built).__name__}, not an nn.Module")
    model: nn.Module = built
    model.to(torch_device)
    if torch_dtype is not None and torch_dtype.is_floating_point:
        model.to(torch_dtype)
    args: list[Any]
    keywords: dict[str, Any] = {}
    if example is not None:
        example = _to_device(example, torch_device, torch_dtype)
        if isinstance(example, dict):
            keywords = {str(key): value for key, value in example.items()}
            args = []
        elif isinstance(example, (list, tuple)):
            args = list(example)
        else:
            args = [example]
    elif inputs_json is not None:
        args = [_random(spec, torch_device, torch_dtype) for spec in inputs_json.args]
        keywords = {
            key: _random(spec, torch_device, torch_dtype)
            for key, spec in inputs_json.kwargs.items()
        }
    else:
        args = [
            _random({"shape": shape, "dtype": None, "high": 2}, torch_device, torch_dtype)
            for shape in (shapes or parse_shapes(()))
        ]
    try:
        return check_model(model, *args, example_kwargs=keywords, expect_trained=expect_trained)
    except ProbeError as error:
        raise TargetError(str(error)) from None


def _random(spec: dict[str, Any], device: Any, default: Any) -> Any:
    import torch

    dtype = getattr(torch, spec["dtype"]) if spec.get("dtype") else default or torch.float32
    if dtype.is_floating_point:
        return torch.randn(spec["shape"], device=device).to(dtype)
    if dtype == torch.bool:
        return torch.ones(spec["shape"], device=device, dtype=dtype)
    return torch.randint(0, spec["high"], spec["shape"], device=device, dtype=dtype)
