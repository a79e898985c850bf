import torch
import torch.nn as nn
import torch.nn.functional as F

# Momentum only weighs running statistics; layers that keep none never read it.
sync_bn = nn.SyncBatchNorm(2, momentum=0.99, track_running_stats=False)
plain = nn.BatchNorm2d(16, 1e-5, 0.9, True, False)


def normalize(x, weight, bias):
    return F.batch_norm(x, None, None, weight, bias, True, 0.9)


# A lazy norm infers num_features, so its second positional argument is the momentum.
lazy_eps_only = nn.LazyBatchNorm2d(1e-3)
lazy = nn.LazyBatchNorm1d(1e-5, 0.99)  # expect: BN401
tracked = nn.BatchNorm1d(8, momentum=0.99, track_running_stats=True)  # expect: BN401
running_mean = torch.zeros(8)
running_var = torch.ones(8)
y = F.batch_norm(torch.randn(4, 8), running_mean, running_var, momentum=0.9)  # expect: BN401
