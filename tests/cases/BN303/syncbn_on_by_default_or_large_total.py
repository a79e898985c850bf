import argparse
import os

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=8)
parser.add_argument("--no-sync-bn", dest="sync_bn", action="store_false")
opt = parser.parse_args()


def train(train_set):
    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    model = torchvision.models.resnet50().cuda(local_rank)
    # On unless the user turns it off: every default run converts.
    if opt.sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = DDP(model, device_ids=[local_rank])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(train_set, batch_size=opt.batch_size)
    return optimizer, loader


def train_large(train_set, world_size):
    model = torchvision.models.resnet50()
    model = DDP(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    # A total of 256 split across the GPUs: no bound below the threshold is known.
    loader = DataLoader(train_set, batch_size=256 // world_size)
    return optimizer, loader
