import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, channels, use_bn=True):
        super().__init__()
        self.use_bn = use_bn
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(channels)

    def forward(self, x):
        # conv1's output also feeds the shortcut.
        y = self.conv1(x)
        z = self.bn1(y) + y
        # bn2 runs only when use_bn is set; otherwise conv2's bias matters.
        out = self.conv2(z)
        if self.use_bn:
            out = self.bn2(out)
        # conv3 is applied twice.
        out = self.bn3(self.conv3(out))
        return self.conv3(out)
