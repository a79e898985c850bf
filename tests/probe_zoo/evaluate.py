"""`python -m tests.probe_zoo.evaluate`: a module run as a program, evaluating correctly."""

import torch

from tests.probe_zoo.vision import resnet

if __name__ == "__main__":
    model = resnet()
    model.eval()
    with torch.no_grad():
        logits = model(torch.randn(4, 3, 16, 16))
    print("logits", tuple(logits.shape))
