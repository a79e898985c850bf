import torch


def validate(model, loader, device):
    model.eval  # expect: BN105
    total = 0
    with torch.no_grad():
        for images, labels in loader:
            total += (model(images.to(device)).argmax(1) == labels.to(device)).sum().item()
    return total


def train_epoch(self, loader):
    self.net.train  # expect: BN105
    for batch in loader:
        self.step(batch)
