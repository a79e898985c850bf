import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class UNetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm = nn.GroupNorm(8, cout)

    def forward(self, x):
        return torch.relu(self.norm(self.conv(x)))


model = UNetBlock(3, 32)
optimizer = torch.optim.Adam(model.parameters())
train_loader = DataLoader(train_set, batch_size=2, shuffle=True)
