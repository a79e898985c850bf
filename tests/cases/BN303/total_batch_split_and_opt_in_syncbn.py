"""A total batch split across the GPUs, with SyncBatchNorm only behind a flag that is off."""

import argparse
import os

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

WORLD_SIZE = int(os.getenv("WORLD_SIZE", 1))

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=16, help="total batch size for all GPUs")
parser.add_argument("--sync-bn", action="store_true", help="use SyncBatchNorm")
opt = parser.parse_args()


def train(train_set):
    dist.init_process_group("nccl")
    local_rank = int(os.environ["LOCAL_RANK"])
    model = torchvision.models.resnet50().cuda(local_rank)
    if opt.sync_bn:
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = DDP(model, device_ids=[local_rank])  # expect: BN303
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(
        train_set, batch_size=opt.batch_size // WORLD_SIZE, sampler=DistributedSampler(train_set)
    )
    return optimizer, loader
