import os

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader

from models import build

local_rank = int(os.environ["LOCAL_RANK"])
world_size = int(os.environ["WORLD_SIZE"])
model = torchvision.models.resnet50().cuda(local_rank)
model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank])
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=256 // world_size)

other = nn.parallel.DistributedDataParallel(build("resnet50"), device_ids=[local_rank])
