import torch.nn as nn


class BNNeckHead(nn.Module):
    """Re-identification neck: the BN output feeds the classifier in training."""

    def __init__(self, in_planes, num_classes):
        super().__init__()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Linear(in_planes, 512, bias=False)
        self.bottleneck = nn.BatchNorm1d(512)
        self.classifier = nn.Linear(512, num_classes, bias=False)

    def forward(self, x):
        global_feat = self.reduce(self.gap(x).flatten(1))
        feat = self.bottleneck(global_feat)
        if self.training:
            return self.classifier(feat), global_feat
        return feat
