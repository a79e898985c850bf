# `model.train()` right before the forward pass of a validation loop (copied from the training
# loop) makes every BatchNorm normalize each val batch with its own statistics. On a model with
# Dropout and no BatchNorm, train() under no_grad is Monte-Carlo dropout, done on purpose.
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class DepthNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(ConvBlock(3, 32), ConvBlock(32, 64))
        self.dec = nn.Conv2d(64, 1, 1)

    def forward(self, x):
        return self.dec(self.enc(x))


class UncertaintyHead(nn.Module):
    def __init__(self, features=256):
        super().__init__()
        self.fc1 = nn.Linear(features, 128)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(128, 1)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def validate(val_loader, checkpoint):
    model = DepthNet()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    errors = []
    with torch.no_grad():
        for image, depth in val_loader:
            model.train()
            pred = model(image)  # expect: BN101
            errors.append((pred - depth).abs().mean().item())
    return sum(errors) / max(len(errors), 1)


def validate_in_eval_mode(val_loader, checkpoint):
    model = DepthNet()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    with torch.no_grad():
        return [(model(image) - depth).abs().mean().item() for image, depth in val_loader]


def predictive_variance(features_loader, checkpoint, samples=20):
    head = UncertaintyHead()
    head.load_state_dict(torch.load(checkpoint))
    variances = []
    with torch.no_grad():
        for features in features_loader:
            head.train()
            draws = torch.stack([head(features) for _ in range(samples)])
            variances.append(draws.var(0))
    return variances
