import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.resnet18(num_classes=10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True, drop_last=True)
val_loader = DataLoader(val_set, batch_size=64)
sampled = DataLoader(train_set, batch_sampler=bucket_sampler)
configured = DataLoader(train_set, batch_size=64, drop_last=args.drop_last)
single = DataLoader(train_set, batch_size=1)
