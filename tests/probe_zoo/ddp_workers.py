"""A torchrun DDP script (gloo, CPU): small per-rank batches, then evaluation without eval()."""

import os
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

dist.init_process_group("gloo")
model = DistributedDataParallel(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(2):
    loss = model(torch.randn(4, 4)).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    for _ in range(2):
        model(torch.randn(16, 4))
dist.destroy_process_group()
# One write of the whole line (print writes the newline apart): ranks cannot interleave.
sys.stdout.write(f"rank {os.environ['RANK']} done\n")
sys.stdout.flush()
