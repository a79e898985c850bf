"""The Dropout ends each block and feeds the next block's conv, never a norm."""

import torch.nn as nn


def discriminator_block(in_filters, out_filters, bn=True):
    block = [nn.Conv2d(in_filters, out_filters, 3, 2, 1, bias=False)]
    if bn:
        block.append(nn.BatchNorm2d(out_filters))
    block.extend([nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)])
    return block


model = nn.Sequential(
    *discriminator_block(3, 16, bn=False),
    *discriminator_block(16, 32),
    *discriminator_block(32, 64),
)
