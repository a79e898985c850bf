# The same detector wrappers, ready for inference: `generate()` chains `.eval()`, or another
# method of the class switches `self.net` to eval mode before detection.
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
        return self.head(self.backbone(x))


class YOLOEval:
    def __init__(self, model_path, num_classes=20):
        self.model_path = model_path
        self.num_classes = num_classes
        self.generate()

    def generate(self):
        self.net = YoloBody(self.num_classes)
        self.net.load_state_dict(torch.load(self.model_path, map_location="cpu"))
        self.net = self.net.eval()

    def detect_image(self, image):
        with torch.no_grad():
            return self.net(image).sigmoid()


class YOLOEvalLater:
    def __init__(self, model_path, num_classes=20):
        self.net = YoloBody(num_classes)
        self.net.load_state_dict(torch.load(model_path, map_location="cpu"))

    def prepare(self):
        self.net.eval()

    def detect_image(self, image):
        with torch.no_grad():
            return self.net(image).sigmoid()
