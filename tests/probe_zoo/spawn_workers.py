"""mp.spawn-style data-parallel evaluation: each worker forgets `model.eval()`."""

import sys

import torch
import torch.multiprocessing as mp
from torch import nn


def worker(rank: int, world: int) -> None:
    torch.manual_seed(rank)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(16, 4))
    # One write of the whole line (print writes the newline apart): workers cannot interleave.
    sys.stdout.write(f"worker {rank} of {world} done\n")
    sys.stdout.flush()


if __name__ == "__main__":
    world = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    mp.spawn(worker, args=(world,), nprocs=world, join=True)
    print("all done")
