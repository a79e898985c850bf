import torch.nn as nn


class Projector(nn.Module):
    """SimCLR/BYOL-style projection head: the last BN has no affine on purpose."""

    def __init__(self, dim=2048, hidden=4096, out=256):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, out, bias=False),
            nn.BatchNorm1d(out, affine=False),
        )

    def forward(self, x):
        return self.net(x)


class BarlowHead(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim, bias=False)
        self.bn = nn.BatchNorm1d(dim, affine=False)

    def forward(self, z):
        return self.bn(self.proj(z))
