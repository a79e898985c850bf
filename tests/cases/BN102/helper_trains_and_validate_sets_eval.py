import torch
from torchvision.models import resnet50


def train_one_epoch(model, loader, optimizer):
    for images, labels in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


def main(train_loader, val_loader):
    model = resnet50()
    optimizer = torch.optim.AdamW(model.parameters())
    for epoch in range(90):
        train_one_epoch(model, train_loader, optimizer)  # expect: BN102
        validate(model, val_loader)
