# A project's own from_pretrained (a classmethod that builds cls() and loads weights)
# returns a model in training mode, unlike Hugging Face's; one that ends in eval() does not.
import torch
import torch.nn as nn
from transformers import AutoModel


class TinyNet(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, bias=False)
        self.bn = nn.BatchNorm2d(width)

    def forward(self, x):
        return self.bn(self.conv(x))

    @classmethod
    def from_pretrained(cls, path):
        model = cls()
        model.load_state_dict(torch.load(path))
        return model


def predict(path, images):
    model = TinyNet.from_pretrained(path)
    with torch.no_grad():
        return model(images)  # expect: BN101


def embed(texts):
    encoder = AutoModel.from_pretrained("bert-base-uncased")
    with torch.no_grad():
        return encoder(**texts)
