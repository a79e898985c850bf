"""The torch names rules care about, as canonical qualified names."""

from __future__ import annotations

BATCH_NORMS = frozenset(
    {
        "torch.nn.BatchNorm1d",
        "torch.nn.BatchNorm2d",
        "torch.nn.BatchNorm3d",
        "torch.nn.SyncBatchNorm",
        "torch.nn.LazyBatchNorm1d",
        "torch.nn.LazyBatchNorm2d",
        "torch.nn.LazyBatchNorm3d",
    }
)

FUNCTIONAL_BATCH_NORM = frozenset({"torch.nn.functional.batch_norm"})

PARTIAL = frozenset({"functools.partial"})

# Positional index of `momentum` in each constructor or function.
BATCH_NORM_MOMENTUM_POSITION = 2
FUNCTIONAL_MOMENTUM_POSITION = 6
