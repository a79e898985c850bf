import torch.nn as nn

ok = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU())
# A non-linearity between: the bias is not cancelled.
act_between = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.BatchNorm2d(64))
# GroupNorm subtracts a mean per group of channels: a per-channel bias survives it.
group = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 64), nn.ReLU())
# InstanceNorm without affine and LayerNorm are not reported.
instance = nn.Sequential(nn.Conv2d(3, 64, 3), nn.InstanceNorm2d(64), nn.ReLU())
layer_norm = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64))


def conv(in_ch, out_ch, use_bias):
    # The bias depends on a parameter: unknown.
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, bias=use_bias), nn.BatchNorm2d(out_ch))
