"""An inference script whose comments and strings speak of training steps: only calls count."""

import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.body(x).mean((2, 3)))


USAGE = "weights come from train.py (loss.backward(), optimizer.step(), then torch.save)"


def main(path, images):
    # No loss.backward() or optimizer.step() here: the weights are only restored.
    model = torch.load(path, weights_only=False).to("cpu")
    return model(images).argmax(1)  # expect: BN101


def restore(path):
    classifier = Classifier()
    classifier.load_state_dict(torch.load(path))
    return classifier


if __name__ == "__main__":
    print(main("classifier.pt", torch.randn(4, 3, 32, 32)))
