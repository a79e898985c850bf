# Exporting a detector's backbone on its own: `model.backbone.eval()` (or eval() on the whole
# model) must come first, after loading weights and after training alike.
import torch
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, bias=False)
        self.bn = nn.BatchNorm2d(16)

    def forward(self, x):
        return self.bn(self.conv(x))


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Conv2d(16, 85, 1)

    def forward(self, x):
        return self.head(self.backbone(x))


def export_backbone(path):
    model = Detector()
    model.load_state_dict(torch.load(path))
    model.backbone.eval()
    torch.onnx.export(model.backbone, torch.rand(1, 3, 64, 64), "backbone.onnx")


def export_backbone_train(path):
    model = Detector()
    model.load_state_dict(torch.load(path))
    torch.onnx.export(model.backbone, torch.rand(1, 3, 64, 64), "backbone.onnx")  # expect: BN103


def export_after_training(loader):
    model = Detector()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    scripted = torch.jit.trace(model.backbone, torch.rand(1, 3, 64, 64))  # expect: BN103
    scripted.save("backbone.pt")
