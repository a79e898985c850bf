"""A helper that returns a normalization class (not a layer), called to build one: the
pattern of self-supervised projection heads that pick SyncBatchNorm under DDP."""

import torch.distributed as dist
import torch.nn as nn


def batch_norm_class(distributed=None):
    if distributed is None:
        distributed = dist.is_initialized() and dist.get_world_size() > 1
    return nn.SyncBatchNorm if distributed else nn.BatchNorm1d


def norm_class_by_name(name):
    if name == "batch":
        return nn.BatchNorm1d
    return nn.LayerNorm


def projection_head(dim, out, hidden=2048, distributed=None):
    return nn.Sequential(
        nn.Linear(dim, hidden),  # expect: BN202
        batch_norm_class(distributed)(hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, out),
    )


def predictor_head(dim, out, hidden=2048, distributed=None):
    # Bias disabled before every norm: nothing to report.
    return nn.Sequential(
        nn.Linear(dim, hidden, bias=False),
        batch_norm_class(distributed)(hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, out, bias=False),
        batch_norm_class(distributed)(out, affine=False),
    )


class Embedder(nn.Module):
    def __init__(self, dim, width, distributed=False):
        super().__init__()
        Norm = batch_norm_class(distributed)
        self.embed = nn.Sequential(
            nn.Linear(dim, width),  # expect: BN202
            Norm(width),
        )
        # Two returns of different kinds: which one is built is not known, so no finding.
        self.other = nn.Sequential(nn.Linear(dim, width), norm_class_by_name("layer")(width))

    def forward(self, x):
        return self.other(self.embed(x))
