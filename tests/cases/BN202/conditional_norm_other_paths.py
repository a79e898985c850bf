"""Shapes that look like a bias before a norm but are not, on every path or on any."""

import torch.nn as nn


def discriminator_block(in_filters, out_filters, bn=True):
    # The conv feeds the LeakyReLU when `bn` is off, and the norm comes after the activation
    # when it is on: the bias is never cancelled.
    block = [nn.Conv2d(in_filters, out_filters, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
    if bn:
        block.append(nn.BatchNorm2d(out_filters))
    return block


def build(layers_cfg, use_norm):
    layers = [nn.Linear(10, 20)]
    if use_norm:
        layers.append(nn.GroupNorm(4, 20))
    layers.append(nn.ReLU())
    return layers


BLOCKS = [nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8)]
model = nn.Sequential(
    *discriminator_block(3, 16, bn=False),
    *discriminator_block(16, 32),
    *build([], True),
    *BLOCKS,
)


def filled_then_reordered():
    seq = nn.Sequential()
    seq.add_module("conv", nn.Conv2d(3, 8, 3))
    seq.add_module("bn", nn.BatchNorm2d(8))
    seq.insert(1, nn.ReLU())
    return seq
