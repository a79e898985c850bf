import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.mobilenet_v2(num_classes=2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
train_loader = DataLoader(train_dataset, shuffle=True)  # expect: BN301
