import torch.nn as nn


class TabularRegressor(nn.Module):
    def __init__(self, in_features, hidden=256):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU())
        self.out = nn.Linear(hidden, 1)
        self.out_norm = nn.BatchNorm1d(1)

    def forward(self, x):
        x = self.body(x)
        x = self.out(x)
        return self.out_norm(x)  # expect: BN201
