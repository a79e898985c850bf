# A project function that builds and returns a network (`resnet50(classes)`) hands it back in
# training mode; one that ends with `.eval()` hands it back ready for inference.
import torch
import torch.nn as nn
import torchvision.models as models


def resnet50(classes):
    net = models.resnet50()
    net.fc = nn.Linear(net.fc.in_features, classes)
    return net


def resnet50_for_inference(classes, weights):
    net = models.resnet50()
    net.fc = nn.Linear(net.fc.in_features, classes)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    return net.eval()


def classify(weights, images):
    net = resnet50(classes=7)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    with torch.no_grad():
        return net(images).argmax(1)  # expect: BN101


def classify_ready(weights, images):
    net = resnet50_for_inference(7, weights)
    with torch.no_grad():
        return net(images).argmax(1)


def classify_after_eval(weights, images):
    net = resnet50(7)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    net.eval()
    with torch.no_grad():
        return net(images).argmax(1)
