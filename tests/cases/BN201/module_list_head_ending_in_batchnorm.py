import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = nn.ModuleList([nn.Linear(512, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU()])
        self.head = nn.ModuleList([nn.Linear(256, num_classes), nn.BatchNorm1d(num_classes)])  # expect: BN201

    def forward(self, x):
        for layer in self.backbone:
            x = layer(x)
        for layer in self.head:
            x = layer(x)
        return x
