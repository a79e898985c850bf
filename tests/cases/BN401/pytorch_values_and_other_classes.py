from functools import partial

import keras
import torch
from torch import nn

norm = partial(nn.BatchNorm2d, momentum=0.01, eps=1e-3)
bn = nn.BatchNorm2d(64, momentum=0.1)
cumulative = nn.BatchNorm1d(64, momentum=None)
gn = nn.GroupNorm(32, 64)
optimizer = torch.optim.SGD([], lr=0.1, momentum=0.9)
keras_bn = keras.layers.BatchNormalization(momentum=0.99)


def not_a_batch_norm(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.momentum = 0.9
    model.ema.momentum = 0.999


class BatchNorm2d:
    """A local class with the same name is not torch's."""

    def __init__(self, features, momentum=0.9):
        self.momentum = momentum


local = BatchNorm2d(64, momentum=0.99)
