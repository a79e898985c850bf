import torch.nn as nn


class TemporalBlock(nn.Module):
    """Dilated 1-D convolutions kept in a ModuleList and applied one after another."""

    def __init__(self, channels, dilations=(1, 2, 4)):
        super().__init__()
        layers = []
        for dilation in dilations:
            layers.append(nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation))  # expect: BN202
            layers.append(nn.BatchNorm1d(channels))
            layers.append(nn.ReLU())
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class PointMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.ModuleList(
            [
                nn.Conv1d(3, 64, 1),  # expect: BN202
                nn.BatchNorm1d(64),
                nn.ReLU(),
                nn.Conv1d(64, 128, 1, bias=False),
                nn.BatchNorm1d(128),
            ]
        )

    def forward(self, points):
        for layer in self.mlp: points = layer(points)
        return points.max(dim=2).values
