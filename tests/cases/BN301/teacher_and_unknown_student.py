import torch
import torchvision
from torch.utils.data import DataLoader

from students import Student

teacher = torchvision.models.resnet152().eval()
student = Student()
optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
train_loader = DataLoader(train_set, batch_size=4, shuffle=True)
