import torch
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.body(x).mean((2, 3)))


def train_epoch(model, loader, optimizer):
    for images, labels in loader:
        loss = nn.functional.cross_entropy(model(images.half()), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    model = ConvNet().cuda()
    model = model.to(torch.float16)  # expect: BN402
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        train_epoch(model, train_loader, optimizer)


net = ConvNet().cuda().half()  # expect: BN402
opt = torch.optim.Adam(net.parameters())
loss = net(batch).sum()
loss.backward()
