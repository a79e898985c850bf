# `validate(ctx)` calls `ctx.model.eval()` and never switches back; the epoch loops set train
# mode once, before the loop (on `ctx.model` or an alias), so later epochs train in eval mode.
import torch
import torch.nn as nn
from torchvision.models import resnet18


class Context:
    def __init__(self, model, optimizer):
        self.model = model
        self.optimizer = optimizer


def validate(ctx, loader):
    ctx.model.eval()
    with torch.no_grad():
        return sum((ctx.model(x).argmax(1) == y).sum().item() for x, y in loader)


def validate_and_restore(ctx, loader):
    ctx.model.eval()
    with torch.no_grad():
        hits = sum((ctx.model(x).argmax(1) == y).sum().item() for x, y in loader)
    ctx.model.train()
    return hits


def fit(ctx, train_loader, val_loader, epochs):
    ctx.model.train()
    for epoch in range(epochs):
        for images, labels in train_loader:
            ctx.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(ctx.model(images), labels)
            loss.backward()  # expect: BN102
            ctx.optimizer.step()
        print(epoch, validate(ctx, val_loader))


def fit_through_alias(ctx, train_loader, val_loader, epochs):
    model = ctx.model
    model.train()
    for epoch in range(epochs):
        for images, labels in train_loader:
            ctx.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()  # expect: BN102
            ctx.optimizer.step()
        print(epoch, validate(ctx, val_loader))


def fit_restored(ctx, train_loader, val_loader, epochs):
    ctx.model.train()
    for epoch in range(epochs):
        for images, labels in train_loader:
            ctx.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(ctx.model(images), labels)
            loss.backward()
            ctx.optimizer.step()
        print(epoch, validate_and_restore(ctx, val_loader))


def main(train_loader, val_loader):
    model = resnet18(num_classes=10)
    ctx = Context(model, torch.optim.SGD(model.parameters(), lr=0.1))
    fit(ctx, train_loader, val_loader, 10)
    fit_through_alias(ctx, train_loader, val_loader, 10)
    fit_restored(ctx, train_loader, val_loader, 10)
