from functools import partial

import torch
import torch.nn as nn

eps = 1e-3
default = nn.BatchNorm2d(64)
keras_eps = nn.BatchNorm2d(64, 1e-3, 0.01)
keyword = nn.BatchNorm2d(64, eps=1e-5, momentum=0.1)
variable = nn.BatchNorm2d(64, eps)
factory = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
# A lazy norm infers num_features: its first positional argument is eps.
lazy = nn.LazyBatchNorm2d(1e-3, 0.1)
# Other normalizations and other classes with an eps: not BatchNorm.
layer_norm = nn.LayerNorm(64, 0.1)
group_norm = nn.GroupNorm(32, 64, 0.1)
optimizer = torch.optim.Adam([], eps=0.1)


def set_eps(model):
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.eps = 0.1
