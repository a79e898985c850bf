import torch
from torchvision.models import resnet50


def fit_one_epoch(model, loader, val_loader, optimizer):
    # Sets training mode before its own steps, and eval mode only for its own validation.
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)


def train_then_set_train(model, loader, optimizer):
    # `train()` only after the steps: the steps run in whatever mode the caller left.
    for images, labels in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    model.train()
    model.eval()


def main(train_loader, val_loader):
    model = resnet50()
    optimizer = torch.optim.AdamW(model.parameters())
    for _epoch in range(90):
        fit_one_epoch(model, train_loader, val_loader, optimizer)


def main_late_train(train_loader):
    model = resnet50()
    optimizer = torch.optim.AdamW(model.parameters())
    for _epoch in range(90):
        train_then_set_train(model, train_loader, optimizer)  # expect: BN102
