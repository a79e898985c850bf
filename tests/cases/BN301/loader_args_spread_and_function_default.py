"""The batch size reaches the loader through a function parameter and a spread dict."""

import argparse

import torch
import torchvision
from torch.utils.data import DataLoader


def train_model(train_set, epochs: int = 5, batch_size: int = 1):
    model = torchvision.models.segmentation.deeplabv3_resnet50(num_classes=2)
    loader_args = dict(batch_size=batch_size, num_workers=4, pin_memory=True)
    train_loader = DataLoader(train_set, shuffle=True, **loader_args)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-5)
    model.train()
    for _ in range(epochs):
        for images, masks in train_loader:
            loss = torch.nn.functional.cross_entropy(model(images), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def get_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", dest="batch_size", type=int, default=1)  # expect: BN301
    return parser.parse_args()


if __name__ == "__main__":
    args = get_args()
    train_model(train_set=None, batch_size=args.batch_size)
