import torch
import torch.nn as nn
from torchvision.models import resnet50


class Classifier(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = resnet50()
        self.head = nn.Linear(1000, num_classes)
        for param in self.backbone.parameters():
            param.requires_grad = False

    def forward(self, x):
        return self.head(self.backbone(x))


def fit(loader, epochs=5):
    model = Classifier(num_classes=5)
    optimizer = torch.optim.Adam(model.head.parameters())
    for epoch in range(epochs):
        model.train()  # expect: BN104
        for images, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
