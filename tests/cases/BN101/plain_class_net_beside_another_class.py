# A plain detector class builds self.net in generate() and runs it in detect_image();
# another class's own self.net.eval() says nothing about it.
import torch
import torch.nn as nn


class Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))


class Detector:
    def generate(self, path):
        self.net = Body()
        self.net.load_state_dict(torch.load(path))

    def detect_image(self, image):
        with torch.no_grad():
            return self.net(image)  # expect: BN101


class Segmenter:
    def __init__(self, path):
        self.net = Body()
        self.net.load_state_dict(torch.load(path))
        self.net.eval()
