from functools import partial

import torch.nn as nn


class Block(nn.Module):
    def __init__(self, in_ch, out_ch, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv1 = nn.Conv2d(in_ch, out_ch * 2, 3, padding=1, bias=False)
        self.bn1 = norm_layer(out_ch * 2)
        self.conv2 = nn.Conv2d(out_ch * 2, out_ch, 3, padding=1, bias=False)
        self.bn2 = norm_layer(out_ch)

    def forward(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x))))


norm = partial(nn.BatchNorm2d, eps=1e-3)
temporal = nn.Sequential(nn.Conv1d(80, 256, 3, bias=False), nn.BatchNorm1d(256), nn.ReLU())
lazy = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.LazyBatchNorm2d(), norm(16))
sync = nn.Sequential(nn.Conv3d(3, 16, 3, bias=False), nn.SyncBatchNorm(16))
