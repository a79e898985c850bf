from dataclasses import dataclass

import timm
import torch
from torch.utils.data import DataLoader


@dataclass
class TrainConfig:
    model: str = "resnet50"
    batch_size: int = 6
    lr: float = 3e-4


def train(cfg: TrainConfig):
    model = timm.create_model("resnet50", pretrained=True, num_classes=5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    train_dl = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True)  # expect: BN301
    for images, labels in train_dl:
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


train(TrainConfig())
