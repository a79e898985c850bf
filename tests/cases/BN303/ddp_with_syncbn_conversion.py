import os

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader

local_rank = int(os.environ["LOCAL_RANK"])
model = torchvision.models.resnet50()
model = nn.SyncBatchNorm.convert_sync_batchnorm(model).cuda(local_rank)
model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank])
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=4, shuffle=False)
