import torch.nn as nn

WIDTH = 128


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        hidden = 64
        self.conv = nn.Conv2d(3, hidden, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(32)  # expect: BN204
        self.proj = nn.Conv2d(hidden, WIDTH, 1, bias=False)
        self.proj_bn = nn.BatchNorm2d(2 * hidden)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.proj_bn(self.proj(x))


classifier = nn.Sequential(nn.Linear(512, 256, bias=False), nn.BatchNorm1d(512), nn.ReLU())  # expect: BN204
