# The model travels inside a context object: `train_epoch(ctx)` puts it in training mode through
# an alias, then `validate(ctx)` hands `ctx.model` to `predict()`, which scores it in that mode.
import torch
import torch.nn as nn
from torchvision.models import resnet34


class TrainContext:
    def __init__(self, model, optimizer, loader, val_loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.val_loader = val_loader


def predict(model, images):
    with torch.no_grad():
        return model(images).softmax(1)  # expect: BN101


def predict_prepared(model, images):
    model.eval()
    with torch.no_grad():
        return model(images).softmax(1)


def train_epoch(ctx):
    model = ctx.model
    model.train()
    for images, labels in ctx.loader:
        ctx.optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        ctx.optimizer.step()
    validate(ctx)


def validate(ctx):
    for images, _ in ctx.val_loader:
        print(predict(ctx.model, images).argmax(1))
        print(predict_prepared(ctx.model, images).argmax(1))


def main(loader, val_loader):
    model = resnet34(num_classes=5)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    ctx = TrainContext(model, optimizer, loader, val_loader)
    for _epoch in range(20):
        train_epoch(ctx)
