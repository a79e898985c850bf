import torch.nn as nn


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        # A downsample branch ends in BN: it is not the model's output.
        self.downsample = nn.Sequential(nn.Conv2d(64, 128, 1, stride=2, bias=False), nn.BatchNorm2d(128))
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = self.downsample(x)
        return self.fc(x.mean((2, 3)))


class EmbeddingMLP(nn.Module):
    def __init__(self):
        super().__init__()
        # BN between hidden layers, the last layer is a plain Linear.
        self.layers = nn.Sequential(nn.Linear(128, 64, bias=False), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 8))

    def forward(self, x):
        return self.layers(x)


encoder = nn.Sequential(nn.Linear(32, 16), nn.BatchNorm1d(16))
decoder = nn.Linear(16, 32)
