import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.resnet50()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=8, shuffle=True)
unbatched = DataLoader(train_set, batch_size=None)
