import torch
from torchvision.models import resnet18


def mc_dropout(x):
    model = resnet18()
    model.load_state_dict(torch.load("w.pt"))
    with torch.no_grad():
        model.train()
        samples = [model(x) for _ in range(10)]
    return samples
