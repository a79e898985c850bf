# `evaluate()` starts with a copy-pasted `model.train()`: the caller's eval() is undone and the
# ResNet's BatchNorm normalizes each val batch by itself. Monte-Carlo dropout on a head with
# Dropout and no BatchNorm switches to train() under no_grad on purpose.
import torch
import torch.nn as nn
from torchvision.models import resnet18


class MCHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 64)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        return self.out(self.drop(self.fc(x)))


def evaluate(model, loader):
    model.train()
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()  # expect: BN101
    return correct


def mc_predict(model, x, samples=30):
    with torch.no_grad():
        model.train()
        return torch.stack([model(x).softmax(1) for _ in range(samples)]).mean(0)


def main(loader):
    net = resnet18()
    net.load_state_dict(torch.load("r18.pt"))
    net.eval()
    print(evaluate(net, loader))
    head = MCHead()
    head.load_state_dict(torch.load("head.pt"))
    head.eval()
    print(mc_predict(head, torch.rand(4, 128)))
