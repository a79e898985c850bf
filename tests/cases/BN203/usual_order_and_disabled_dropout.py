import torch.nn as nn

usual = nn.Sequential(
    nn.Linear(512, 256, bias=False),
    nn.BatchNorm1d(256),
    nn.ReLU(),
    nn.Dropout(0.5),
    nn.Linear(256, 10),
)
no_op = nn.Sequential(nn.Dropout(p=0.0), nn.BatchNorm1d(256))
with_layer_between = nn.Sequential(nn.Dropout(0.2), nn.Linear(256, 256, bias=False), nn.BatchNorm1d(256))
