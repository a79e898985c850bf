import torch
import torch.nn as nn
from torchvision.models import resnet50, vit_b_16


class Classifier(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = resnet50()
        self.head = nn.Linear(1000, num_classes)
        self.backbone.requires_grad_(False)

    def forward(self, x):
        return self.head(self.backbone(x))


def fit(loader, epochs=5):
    model = Classifier(num_classes=5)
    optimizer = torch.optim.Adam(model.head.parameters())
    for epoch in range(epochs):
        model.train()
        model.backbone.eval()
        for images, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()


def fit_vit(loader):
    # A frozen part without BatchNorm has no running statistics to protect.
    vit = vit_b_16()
    vit.requires_grad_(False)
    vit.train()
