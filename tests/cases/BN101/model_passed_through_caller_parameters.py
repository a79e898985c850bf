# A segmentation model handed down from the script's main block through `train_net(net=net)`
# to `eval_net(net, ...)`: it arrives in training mode, so its BatchNorm uses each val batch.
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.block(x)


class SegNet(nn.Module):
    def __init__(self, n_channels, n_classes):
        super().__init__()
        self.inc = DoubleConv(n_channels, 32)
        self.down = DoubleConv(32, 64)
        self.outc = nn.Conv2d(64, n_classes, 1)

    def forward(self, x):
        x = self.down(F.max_pool2d(self.inc(x), 2))
        return F.interpolate(self.outc(x), scale_factor=2)


def dice_coeff(pred, target):
    inter = (pred * target).sum()
    return (2 * inter + 1) / (pred.sum() + target.sum() + 1)


def eval_net(net, loader, device):
    total = 0.0
    with torch.no_grad():
        for imgs, true_masks in loader:
            mask_pred = net(imgs.to(device))  # expect: BN101
            total += dice_coeff(torch.sigmoid(mask_pred), true_masks.to(device)).item()
    return total / max(len(loader), 1)


def eval_net_in_eval_mode(net, loader, device):
    net.eval()
    total = 0.0
    with torch.no_grad():
        for imgs, true_masks in loader:
            mask_pred = net(imgs.to(device))
            total += dice_coeff(torch.sigmoid(mask_pred), true_masks.to(device)).item()
    net.train()
    return total / max(len(loader), 1)


def train_net(net, train_loader, val_loader, device, epochs=5, lr=0.001):
    optimizer = torch.optim.RMSprop(net.parameters(), lr=lr, weight_decay=1e-8)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        net.train()
        for imgs, true_masks in train_loader:
            loss = criterion(net(imgs.to(device)), true_masks.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(epoch, "val dice", eval_net(net, val_loader, device))
        print(epoch, "val dice (eval mode)", eval_net_in_eval_mode(net, val_loader, device))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = SegNet(n_channels=3, n_classes=1)
    net.to(device=device)
    train_net(net=net, train_loader=[], val_loader=[], device=device, epochs=args.epochs)
