import logging

import torch
import torchvision

model = torchvision.models.resnet50()
missing, unexpected = model.load_state_dict(torch.load("backbone.pth"), strict=False)
if missing:
    raise RuntimeError(f"missing keys: {missing}")
logging.info(model.load_state_dict(torch.load("backbone.pth"), strict=False))
model.load_state_dict(torch.load("backbone.pth"))

adapter = load_adapter()
adapter.load_state_dict(torch.load("adapter.pth"), strict=False)
