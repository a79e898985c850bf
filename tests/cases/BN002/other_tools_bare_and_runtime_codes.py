import torch


def validate(model, loader):
    model.eval()  # noqa: E501
    out = [model(x) for x in loader]  # noqa
    state = torch.load("best.pt")  # noqa: BN501
    return out, state  # noqa: F841,E731
