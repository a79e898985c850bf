import torch
from torch.utils.data import DataLoader

from mylib.models import build_model

model = build_model("resnet50")
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=2, shuffle=True)
