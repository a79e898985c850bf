import torch
from torchvision.models import resnet18


def predict(model, loader):
    with torch.no_grad():
        return [model(x).argmax(1) for x in loader]


def set_bn_eval(module):
    if isinstance(module, torch.nn.BatchNorm2d):
        module.eval()


def main(loader):
    model = resnet18()
    model.load_state_dict(torch.load("w.pt"))
    model.eval()
    predict(model, loader)
    other = resnet18()
    other.apply(set_bn_eval)
    with torch.no_grad():
        other(torch.zeros(2, 3, 32, 32))
