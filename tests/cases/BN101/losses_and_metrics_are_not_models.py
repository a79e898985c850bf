# Losses and metrics are called like models (`criterion(output, target)`) and may even be
# nn.Modules (`class DiceLoss(_Loss)`), but they have no train/eval behaviour: never a finding.
import torch
import torch.nn as nn
from torch.nn.modules.loss import _Loss
from torchvision.models import resnet18


class DiceLoss(_Loss):
    def __init__(self, smooth=1.0):
        super().__init__()
        self.smooth = smooth

    def forward(self, pred, target):
        inter = (pred.sigmoid() * target).sum()
        return 1 - (2 * inter + self.smooth) / (pred.sigmoid().sum() + target.sum() + self.smooth)


class MeanIoU(nn.Module):
    def forward(self, pred, target):
        inter = ((pred > 0) & (target > 0)).sum()
        return inter / ((pred > 0) | (target > 0)).sum().clamp(min=1)


def validate(model, criterion, val_loader):
    model.eval()
    loss = 0.0
    with torch.no_grad():
        for images, target in val_loader:
            loss += criterion(model(images), target).item()
    return loss


def main(train_loader, val_loader):
    model = resnet18(num_classes=10).cuda()
    criterion = nn.CrossEntropyLoss().cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _epoch in range(5):
        model.train()
        for images, target in train_loader:
            optimizer.zero_grad()
            criterion(model(images), target).backward()
            optimizer.step()
        validate(model, criterion, val_loader)


@torch.no_grad()
def test_dice_loss_is_zero_on_perfect_prediction():
    loss = DiceLoss(smooth=0.0)
    target = torch.ones(2, 1, 4, 4)
    assert loss(torch.full((2, 1, 4, 4), 20.0), target) < 1e-3


def score_masks(pairs):
    metric = MeanIoU()
    dice = DiceLoss()
    with torch.no_grad():
        return [(metric(p, t).item(), dice(p, t).item()) for p, t in pairs]
