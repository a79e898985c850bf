import torch
import torch.nn.functional as F
from torchvision.models import resnet18, resnet50


def distill(loader):
    teacher = resnet50().eval()  # set once, never trained again
    student = resnet18()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    for images, _ in loader:
        with torch.no_grad():
            targets = teacher(images)
        loss = F.mse_loss(student(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
