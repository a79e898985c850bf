# A YOLO-style detector wrapper (a plain class, not an nn.Module) builds and loads `self.net`
# in `generate()` and runs it under no_grad in `detect_image()` without ever switching it to
# eval mode: the detector normalizes with the statistics of the one image it is given.
import torch
import torch.nn as nn


class YoloBody(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.LeakyReLU(0.1)
        )
        self.head = nn.Conv2d(32, 3 * (5 + num_classes), 1)

    def forward(self, x):
        # Inside the module's own methods `self.backbone` follows the module's mode.
        with torch.no_grad():
            features = self.backbone(x)
        return self.head(features)


class YOLO:
    def __init__(self, model_path, num_classes=20, cuda=True):
        self.model_path = model_path
        self.num_classes = num_classes
        self.cuda = cuda
        self.generate()

    def generate(self):
        self.net = YoloBody(self.num_classes)
        self.net.load_state_dict(torch.load(self.model_path, map_location="cpu"))
        if self.cuda:
            self.net = nn.DataParallel(self.net)
            self.net = self.net.cuda()

    def detect_image(self, image):
        with torch.no_grad():
            outputs = self.net(image)  # expect: BN101
        return outputs.sigmoid()
