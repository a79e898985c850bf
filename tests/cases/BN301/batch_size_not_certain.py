import torch
import torchvision
from torch.utils.data import DataLoader

batch_size = 4
if torch.cuda.is_available():
    batch_size = 64


def make_loader(dataset, bs):
    return DataLoader(dataset, batch_size=bs, shuffle=True)


model = torchvision.models.resnet50()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
