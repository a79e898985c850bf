import torch.nn as nn
import torch.nn.functional as F


class MLPHead(nn.Module):
    def __init__(self, in_dim, hidden, num_classes):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)  # expect: BN202
        self.bn1 = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.fc1(x)
        x = F.relu(self.bn1(x))
        return self.fc2(x)
