"""A module-level alias of the norm class and a momentum set by module name."""

import torch.nn as nn

_BATCH_NORM = nn.SyncBatchNorm if False else nn.BatchNorm2d
_NORM = _BATCH_NORM


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = _BATCH_NORM(c, momentum=0.9997)  # expect: BN401
        self.bn2 = _NORM(c, 1e-3, 0.99)  # expect: BN401


def port_tf_weights(model):
    for name, module in model.named_modules():
        if ".bn" in name or name.endswith("_bn"):
            module.momentum = 0.9997  # expect: BN401
    for module in model.modules():
        if "BatchNorm" in type(module).__name__:
            module.momentum = 0.99  # expect: BN401
