from collections import OrderedDict

import torch.nn as nn

block = nn.Sequential(
    OrderedDict(
        [
            ("conv", nn.Conv2d(64, 64, 3, padding=1)),  # expect: BN202
            ("norm", nn.BatchNorm2d(64)),
            ("act", nn.ReLU(inplace=True)),
        ]
    )
)

style = nn.Sequential(
    nn.Conv2d(64, 64, 3, padding=1),  # expect: BN202
    nn.InstanceNorm2d(64, affine=True),
    nn.ReLU(inplace=True),
)
