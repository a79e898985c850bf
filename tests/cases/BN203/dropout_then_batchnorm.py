import torch.nn as nn
import torch.nn.functional as F

head = nn.Sequential(
    nn.Linear(512, 256, bias=False),
    nn.ReLU(),
    nn.Dropout(0.5),  # expect: BN203
    nn.BatchNorm1d(256),
    nn.Linear(256, 10),
)


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.drop = nn.Dropout2d(p=0.2)  # expect: BN203
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.bn(self.drop(x))


class FunctionalBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x):
        x = F.dropout(x, 0.3, self.training)  # expect: BN203
        return self.bn(x)
