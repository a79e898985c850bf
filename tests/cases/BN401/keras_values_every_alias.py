import functools
from functools import partial

import torch
import torch.nn as tnn
import torch.nn.functional as F
from torch import nn
from torch.nn import BatchNorm2d as BN
from torch.nn.modules.batchnorm import BatchNorm1d


class Stem(nn.Module):
    def __init__(self, norm_layer=partial(nn.BatchNorm2d, momentum=0.9)):  # expect: BN401
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, stride=2, bias=False)
        self.bn = norm_layer(32)
        self.bn2 = tnn.BatchNorm2d(32, 1e-3, 0.99)  # expect: BN401
        self.bn3 = BN(32, momentum=0.997)  # expect: BN401
        self.bn4 = BatchNorm1d(32, momentum=.9)  # expect: BN401
        self.bn5 = torch.nn.SyncBatchNorm(32, momentum=0.99)  # expect: BN401
        self.bn6 = nn.LazyBatchNorm3d(momentum=0.6)  # expect: BN401
        self.factory = functools.partial(tnn.BatchNorm1d, momentum=0.99)  # expect: BN401


def functional(x, mean, var):
    return F.batch_norm(x, mean, var, None, None, True, 0.9)  # expect: BN401


def port_from_keras(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            m.momentum = 0.99  # expect: BN401
            m.eps = 1e-3
