"""`python tests/probe_zoo/evaluate_app`: a folder run as a program (its __main__.py)."""

import torch
from torch import nn

model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten())
with torch.no_grad():
    for _ in range(2):
        scores = model(torch.randn(8, 3, 6, 6))
print("scored", tuple(scores.shape))
