import torch
import torchvision

model = torchvision.models.resnet50()
model.load_state_dict(torch.load("imagenet_pretrained.pth"), strict=False)  # expect: BN403
_ = model.load_state_dict(torch.load("imagenet_pretrained.pth"), False)  # expect: BN403
