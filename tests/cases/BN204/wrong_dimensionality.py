import torch.nn as nn

encoder = nn.Sequential(
    nn.Conv2d(1, 32, 3, bias=False),
    nn.BatchNorm1d(32),  # expect: BN204
    nn.ReLU(),
)
mlp = nn.Sequential(nn.Linear(100, 64, bias=False), nn.BatchNorm2d(64), nn.ReLU())  # expect: BN204
audio = nn.Sequential(nn.Conv1d(40, 64, 5, bias=False), nn.BatchNorm2d(64))  # expect: BN204
