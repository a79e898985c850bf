import torch
import torchvision
from torch.utils.data import DataLoader

config = {
    "batch_size": 2,
    "accumulation_steps": 16,
    "lr": 0.01,
}

model = torchvision.models.resnet34(num_classes=4)
optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True)  # expect: BN301
for step, (images, targets) in enumerate(loader):
    loss = criterion(model(images), targets) / config["accumulation_steps"]
    loss.backward()
    if (step + 1) % config["accumulation_steps"] == 0:
        optimizer.step()
        optimizer.zero_grad()
