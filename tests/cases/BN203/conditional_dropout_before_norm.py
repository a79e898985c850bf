"""Dropout that feeds BatchNorm whenever a branch adds one or the other."""

import itertools

import torch.nn as nn


def discriminator_block(in_filters, out_filters, bn=True):
    block = [nn.Conv2d(in_filters, out_filters, 3, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]  # expect: BN203
    if bn:
        block.append(nn.BatchNorm2d(out_filters, momentum=0.2))
    return block


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            *discriminator_block(3, 16, bn=False),
            *discriminator_block(16, 32),
            *discriminator_block(32, 64),
        )


def mlp(sizes, dropout=0.0):
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers.append(nn.Linear(n_in, n_out, bias=False))
        if dropout:
            layers.append(nn.Dropout(dropout))  # expect: BN203
        layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)
