# Helpers the epoch loop calls right after its training steps: a validation loss under
# `@torch.inference_mode()` and a decoding helper under no_grad get the model in training mode.
import torch
import torch.nn as nn
from torchvision.models import resnet18


@torch.inference_mode()
def compute_val_loss(model, loader):
    return sum(nn.functional.cross_entropy(model(x), y).item() for x, y in loader)  # expect: BN101


def decode_batch(model, batch, processor):
    with torch.no_grad():
        ids = model.generate(batch["pixel_values"], num_beams=4)  # expect: BN101
    return processor.batch_decode(ids, skip_special_tokens=True)


@torch.inference_mode()
def compute_val_loss_in_eval_mode(model, loader):
    model.eval()
    total = sum(nn.functional.cross_entropy(model(x), y).item() for x, y in loader)
    model.train()
    return total


def fit(loader, val_loader, processor, epochs=3):
    model = resnet18(num_classes=100)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        print(epoch, compute_val_loss(model, val_loader))
        print(epoch, compute_val_loss_in_eval_mode(model, val_loader))
        for batch in val_loader:
            print(decode_batch(model, batch, processor))
