import lightning as L
import torch
import torch.nn as nn
from torch.utils.data import DataLoader


class SegModel(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.decoder = nn.Conv2d(64, 2, 1)

    def training_step(self, batch, batch_idx):
        images, masks = batch
        return nn.functional.cross_entropy(self.decoder(self.encoder(images)), masks)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=2, shuffle=True, num_workers=4)  # expect: BN301

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=1)
