import torch.nn as nn

_BATCH_NORM = nn.SyncBatchNorm if False else nn.BatchNorm2d

STEM = [nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU()]  # expect: BN202
stem = nn.Sequential(*STEM)


def features():
    seq = nn.Sequential()
    seq.add_module("conv1", nn.Conv2d(3, 64, 7, 2, 3))  # expect: BN202
    seq.add_module("bn1", nn.BatchNorm2d(64))
    seq.add_module("relu1", nn.ReLU(inplace=True))
    return seq


class ConvBnReLU(nn.Sequential):
    def __init__(self, in_ch, out_ch, relu=True):
        super().__init__()
        self.add_module("conv", nn.Conv2d(in_ch, out_ch, 3, 1, 1))  # expect: BN202
        self.add_module("bn", _BATCH_NORM(out_ch, eps=1e-5, momentum=0.001))
        if relu:
            self.add_module("relu", nn.ReLU())


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential()
        self.head.add_module("fc", nn.Linear(512, 256))  # expect: BN202
        self.head.add_module("bn", nn.BatchNorm1d(256))
