"""BatchNorm on class scores, returned the ways real models return them."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class DAN(nn.Module):
    def __init__(self, num_class=7):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 512, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(512, num_class)
        self.bn = nn.BatchNorm1d(num_class)

    def forward(self, x):
        x = self.features(x).flatten(1)
        out = self.fc(x)
        out = self.bn(out)  # expect: BN201
        return out, x


class CNN5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, bias=False)
        self.fc1 = nn.Linear(10240, 10, bias=False)
        self.fc1_bn = nn.BatchNorm1d(10)

    def get_logits(self, x):
        flat = torch.flatten(F.relu(self.conv1(x)), 1)
        logits = self.fc1_bn(self.fc1(flat))  # expect: BN201
        return logits

    def forward(self, x):
        logits = self.get_logits(x)
        return F.log_softmax(logits, dim=1)


class SimplestCNNBNLast(nn.Sequential):
    def __init__(self):
        super().__init__(
            nn.Conv2d(3, 32, 3, padding="same"),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 100),
            nn.BatchNorm1d(100),  # expect: BN201
        )


class NestedClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Sequential(nn.Linear(64, 10), nn.BatchNorm1d(10)),  # expect: BN201
            nn.LogSoftmax(dim=1),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
