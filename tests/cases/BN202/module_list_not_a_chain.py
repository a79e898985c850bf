import torch
import torch.nn as nn


class MultiHead(nn.Module):
    """Heads applied side by side to the same features: no layer feeds the next."""

    def __init__(self, num_tasks):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(256, 1), nn.BatchNorm1d(1)])

    def forward(self, features):
        return torch.cat([head(features) for head in self.heads], dim=1)


class ResidualStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32)])

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


class FeaturePyramid(nn.Module):
    """Every intermediate output is kept: the conv's output has a second reader."""

    def __init__(self):
        super().__init__()
        self.stages = nn.ModuleList([nn.Conv2d(16, 16, 3), nn.BatchNorm2d(16)])

    def forward(self, x):
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs


class GrownLater(nn.Module):
    """Layers appended after construction: the constructor's list is not the data path."""

    def __init__(self, extra):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(8, 8, 3)])
        if extra:
            self.layers.append(nn.Identity())
        self.layers.append(nn.BatchNorm2d(8))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class IndexedPairs(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(8), nn.BatchNorm2d(8)])

    def forward(self, x):
        for i in range(2):
            x = torch.relu(self.norms[i](self.convs[i](x)))
        return x
