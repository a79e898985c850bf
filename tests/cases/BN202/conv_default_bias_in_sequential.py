import torch.nn as nn


def conv_bn_relu(in_channels, out_channels, stride=1):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1),  # expect: BN202
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


features = nn.Sequential(
    nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=True),  # expect: BN202
    nn.BatchNorm2d(32),
    nn.ReLU6(inplace=True),
)
