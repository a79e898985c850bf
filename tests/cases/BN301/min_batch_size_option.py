# bnlint-test: min-batch-size = 16
import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.densenet121(num_classes=14)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
train_loader = DataLoader(train_set, batch_size=12, shuffle=True)  # expect: BN301
tune_loader = DataLoader(train_set, batch_size=16, shuffle=True)
