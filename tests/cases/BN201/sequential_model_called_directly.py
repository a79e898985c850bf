import torch
import torch.nn as nn

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(28 * 28, 128),
    nn.BatchNorm1d(128),
    nn.ReLU(),
    nn.Linear(128, 10),
    nn.BatchNorm1d(10),  # expect: BN201
)
logits = model(torch.randn(64, 1, 28, 28))
