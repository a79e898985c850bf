# A torchvision constructor looked up by name (models.__dict__[arch]) and handed to a
# validation helper that never calls eval().
import torch
import torchvision.models as models


def validate(loader, model):
    with torch.no_grad():
        for x, y in loader:
            model(x)  # expect: BN101


def main(arch):
    model = models.__dict__[arch](pretrained=True)
    validate([], model)
