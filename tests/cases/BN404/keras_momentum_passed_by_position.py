"""GAN blocks ported from Keras, where `BatchNormalization(momentum=0.8)` became eps."""

from functools import partial

import torch.nn as nn
import torch.nn.functional as F
from torch.nn import BatchNorm2d

_BATCH_NORM = nn.SyncBatchNorm if False else nn.BatchNorm2d


def block(in_feat, out_feat, normalize=True):
    layers = [nn.Linear(in_feat, out_feat)]
    if normalize:
        layers.append(nn.BatchNorm1d(out_feat, 0.8))  # expect: BN404
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class Discriminator(nn.Module):
    def __init__(self, channels, bn_momentum=0.9):
        super().__init__()
        self.conv = nn.Conv2d(channels, 128, 3, 2, 1)
        self.bn = BatchNorm2d(128, 0.8)  # expect: BN404
        self.bn_same = nn.BatchNorm2d(channels, channels)  # expect: BN404
        self.bn_named = nn.BatchNorm2d(128, bn_momentum)  # expect: BN404
        self.bn_alias = _BATCH_NORM(128, 0.99)  # expect: BN404
        self.bn_keyword = nn.BatchNorm2d(128, eps=0.1)  # expect: BN404
        self.norm_layer = partial(nn.BatchNorm2d, eps=0.5)  # expect: BN404


def functional(x, mean, var):
    return F.batch_norm(x, mean, var, None, None, True, 0.1, 0.9)  # expect: BN404


def port_from_keras(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 0.1  # expect: BN404
