import torch
import torch.nn as nn
from torch.utils.data import DataLoader

BATCH_SIZE = 1
EPOCHS = 20


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
        )
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


net = SmallCNN()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
trainloader = DataLoader(trainset, batch_size=BATCH_SIZE, shuffle=True)  # expect: BN301
