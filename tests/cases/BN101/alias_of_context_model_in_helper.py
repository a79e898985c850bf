# The epoch helper puts ctx.model in training mode through an alias (model = ctx.model);
# predict() then scores it without eval().
import torch
from torchvision.models import resnet34


class TrainContext:
    def __init__(self, model, optimizer, loader):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader


def predict(model, images):
    with torch.no_grad():
        return model(images).softmax(1)  # expect: BN101


def train_epoch(ctx):
    model = ctx.model
    model.train()
    for images, labels in ctx.loader:
        ctx.optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        ctx.optimizer.step()


def main(loader, images):
    model = resnet34(num_classes=5)
    ctx = TrainContext(model, torch.optim.Adam(model.parameters()), loader)
    for _epoch in range(20):
        train_epoch(ctx)
        predict(ctx.model, images)
