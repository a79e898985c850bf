import torch
import torchvision
from torch.utils.data import DataLoader

model = torchvision.models.resnet50()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=1)
test_loader = DataLoader(datasets.CIFAR10("data", train=False), batch_size=1)
predict_dl = DataLoader(images, batch_size=1)
