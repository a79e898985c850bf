# `net = nn.DataParallel(net)` and `net = net.cuda()` rebind the name to the same network in the
# same mode: a checkpoint loaded into it and run under no_grad without eval() is still a bug.
import torch
import torch.nn as nn


class FCNHead(nn.Sequential):
    def __init__(self, in_channels, channels):
        super().__init__(
            nn.Conv2d(in_channels, in_channels // 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(in_channels // 4),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(in_channels // 4, channels, 1),
        )


class FCN(nn.Module):
    def __init__(self, num_classes=21):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 256, 3, stride=8, padding=1, bias=False), nn.BatchNorm2d(256), nn.ReLU()
        )
        self.head = FCNHead(256, num_classes)

    def forward(self, x):
        return nn.functional.interpolate(self.head(self.backbone(x)), size=x.shape[-2:])


def segment(checkpoint, loader):
    net = FCN(num_classes=21)
    net.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    net = nn.DataParallel(net)
    net = net.cuda()
    with torch.no_grad():
        for image, _ in loader:
            pred = net(image.cuda()).argmax(1)  # expect: BN101
            print(pred.unique())


def segment_in_eval_mode(checkpoint, loader):
    net = FCN(num_classes=21)
    net.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    net.eval()
    net = nn.DataParallel(net)
    net = net.cuda()
    with torch.no_grad():
        for image, _ in loader:
            print(net(image.cuda()).argmax(1).unique())


def segment_wrapped_then_eval(checkpoint, loader):
    net = nn.DataParallel(FCN(num_classes=21)).cuda()
    net.module.load_state_dict(torch.load(checkpoint))
    net.eval()
    with torch.no_grad():
        for image, _ in loader:
            print(net(image.cuda()).argmax(1).unique())
