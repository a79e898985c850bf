import torch
import torch.nn as nn
from torchvision.models import resnet18


class DropoutHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 256)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(256, 10)

    def forward(self, x):
        return self.out(self.drop(torch.relu(self.fc(x))))


def mc_dropout(x):
    # Monte-Carlo dropout: `train()` on purpose, on a model with Dropout and no BatchNorm.
    head = DropoutHead()
    head.load_state_dict(torch.load("head.pt"))
    with torch.no_grad():
        head.train()
        samples = [head(x) for _ in range(10)]
    return samples


def mc_dropout_on_batch_norm(x):
    # The same on a ResNet: `train()` also makes every BatchNorm normalize with the
    # statistics of this one batch, so the samples differ from the model's real output.
    model = resnet18()
    model.load_state_dict(torch.load("w.pt"))
    with torch.no_grad():
        model.train()
        samples = [model(x) for _ in range(10)]  # expect: BN101
    return samples


def validate(model, loader):
    # The caller's model, whatever it holds: `train()` right before each call undoes eval().
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            model.train()
            out = model(x)  # expect: BN101
            print((out.argmax(1) == y).float().mean())
