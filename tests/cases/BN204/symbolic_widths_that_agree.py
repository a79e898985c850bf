import torch.nn as nn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes):
        super().__init__()
        width = planes
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)

    def forward(self, x):
        x = self.bn2(self.conv2(x)).relu()
        return self.bn3(self.conv3(x))


class Mixed(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        # `a * b` is not linear: nothing is claimed.
        self.fc = nn.Linear(a, a * b, bias=False)
        self.bn = nn.BatchNorm1d(b * a)

    def forward(self, x):
        return self.bn(self.fc(x))
