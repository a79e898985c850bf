"""What kind of layer a module is, judged by class (subclasses included), never by name."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

_BATCH_NORMS: tuple[type[nn.Module], ...] = (nn.modules.batchnorm._BatchNorm,)
_INSTANCE_NORMS: tuple[type[nn.Module], ...] = (nn.modules.instancenorm._InstanceNorm,)
_DROPOUTS: tuple[type[nn.Module], ...] = (nn.modules.dropout._DropoutNd,)
_SEQUENCE_MODULES: tuple[type[nn.Module], ...] = (
    nn.RNNBase,
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
)
CONVS: tuple[type[nn.Module], ...] = (nn.modules.conv._ConvNd,)
LINEARS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Bilinear, nn.LazyLinear)


def is_batch_norm(module: nn.Module) -> bool:
    return isinstance(module, _BATCH_NORMS)


def is_dropout(module: nn.Module) -> bool:
    return isinstance(module, _DROPOUTS)


def is_sequence_module(module: nn.Module) -> bool:
    return isinstance(module, _SEQUENCE_MODULES)


def is_embedding_norm(module: nn.Module) -> bool:
    """A BatchNorm that ends an embedding head rather than a classifier (BN201 stays silent).

    Self-supervised projectors end in `BatchNorm1d(dim, affine=False)`; ArcFace-style face
    embeddings (insightface's `features`) freeze the norm's scale (`weight.requires_grad =
    False`) so the embedding keeps unit scale for the margin loss. The static rule exempts
    the same two shapes; a BNNeck is told apart by its forward (see check_output_norm).
    """
    if not getattr(module, "affine", True):
        return True
    weight = getattr(module, "weight", None)
    return isinstance(weight, torch.Tensor) and not weight.requires_grad


def tracks_stats(module: nn.Module) -> bool:
    """A norm whose eval-mode output uses running statistics (BN by default, InstanceNorm opt-in)."""
    return isinstance(module, _BATCH_NORMS + _INSTANCE_NORMS) and bool(
        getattr(module, "track_running_stats", False)
    )


def is_mode_dependent(module: nn.Module) -> bool:
    """A layer whose output changes with train()/eval(): tracking norms and active dropout.

    >>> is_mode_dependent(nn.BatchNorm2d(8)), is_mode_dependent(nn.Dropout(0.0))
    (True, False)
    """
    if is_dropout(module):
        return float(getattr(module, "p", 0.0)) > 0.0
    return tracks_stats(module)


def mode_dependent_layers(root: nn.Module) -> list[tuple[str, nn.Module]]:
    """(path, module) of every mode-dependent layer below `root`, `root` itself included."""
    return [(path, module) for path, module in root.named_modules() if is_mode_dependent(module)]


def batch_norm_layers(root: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(path, module) for path, module in root.named_modules() if is_batch_norm(module)]


def running_stats_state(module: nn.Module) -> str | None:
    """'untrained' (initial values, nothing tracked), 'nonfinite', or None when they look trained.

    >>> running_stats_state(nn.BatchNorm2d(8))
    'untrained'
    """
    mean = getattr(module, "running_mean", None)
    var = getattr(module, "running_var", None)
    if not isinstance(mean, torch.Tensor) or not isinstance(var, torch.Tensor):
        return None
    if mean.is_meta or var.is_meta:
        return None
    with torch.no_grad():
        if not (bool(torch.isfinite(mean).all()) and bool(torch.isfinite(var).all())):
            return "nonfinite"
        tracked = getattr(module, "num_batches_tracked", None)
        if (
            isinstance(tracked, torch.Tensor)
            and int(tracked) == 0
            and bool((mean == 0).all())
            and bool((var == 1).all())
        ):
            return "untrained"
    return None


def first_tensor(value: Any, depth: int = 0) -> torch.Tensor | None:
    """The first tensor in a (nested) output or argument list: the batch-carrying one."""
    if isinstance(value, torch.Tensor):
        return value
    if depth > 3:
        return None
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            found = first_tensor(item, depth + 1)
            if found is not None:
                return found
        return None
    # dataclass-like model outputs (e.g. `ModelOutput`) expose their tensors as attributes
    values = getattr(value, "__dict__", None)
    if isinstance(values, dict) and not isinstance(value, nn.Module):
        return first_tensor(list(values.values()), depth + 1)
    return None
