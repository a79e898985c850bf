"""Widths that disagree for every value, or whenever two parameters differ; graph layers
whose signatures bnlint knows."""

import torch.nn as nn
from torch_geometric.nn import GATConv, GCNConv


class Encoder(nn.Module):
    def __init__(self, layer_config):
        super().__init__()
        self.conv1 = GCNConv(layer_config[0], layer_config[1])
        self.bn1 = nn.BatchNorm1d(layer_config[1], momentum=0.01)
        self.conv2 = GCNConv(layer_config[1], layer_config[2])
        self.bn2 = nn.BatchNorm1d(layer_config[1], momentum=0.01)  # expect: BN204

    def forward(self, x, edge_index, edge_weight=None):
        x = self.bn1(self.conv1(x, edge_index, edge_weight=edge_weight)).relu()
        return self.bn2(self.conv2(x, edge_index, edge_weight=edge_weight)).relu()


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, 2 * c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)  # expect: BN204

    def forward(self, x):
        return self.bn(self.conv(x))


class Head(nn.Module):
    def __init__(self, h, out):
        super().__init__()
        self.fc = nn.Linear(h, out, bias=False)
        self.bn = nn.BatchNorm1d(h)  # expect: BN204

    def forward(self, x):
        return self.bn(self.fc(x)).relu()


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        # The output is `heads * d` wide when concatenated: not compared.
        self.gat = GATConv(d, d, heads=heads)
        self.bn = nn.BatchNorm1d(d)

    def forward(self, x, edge_index):
        return self.bn(self.gat(x, edge_index))
