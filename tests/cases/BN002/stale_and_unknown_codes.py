import torch
from torch import nn


def validate(model, loader):
    model.eval()  # noqa: BN105  # expect: BN002
    scores = [model(x) for x in loader]  # noqa: BN999  # expect: BN002
    head = nn.Linear(8, 2)  # noqa: E501, BN202  # expect: BN002
    return scores, head  # noqa: E501, F841
