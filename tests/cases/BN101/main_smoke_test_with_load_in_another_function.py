import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16))
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


def net(pretrained=None):
    # The load belongs to this factory's own `model`, not to the smoke test below.
    model = Net()
    if pretrained:
        model.load_state_dict(torch.load(pretrained))
    return model


def predict(path, image):
    model = Net()
    model.load_state_dict(torch.load(path))
    return model(image.unsqueeze(0))  # expect: BN101


if __name__ == "__main__":
    # A smoke test of the output shape on random weights: no checkpoint reaches `model`.
    model = Net()
    output = model(torch.randn(2, 3, 224, 224))
    print(output.size())

    restored = Net()
    restored.load_state_dict(torch.load("net.pth"))
    print(restored(torch.randn(2, 3, 224, 224)).argmax(1))  # expect: BN101
