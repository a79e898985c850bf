# A script's own test(model, loader), called from main() after training: an evaluation in
# training mode (volatile inputs, no eval()), not a pytest function.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.bn1 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(F.relu(self.bn1(self.conv1(x))).mean((2, 3))), dim=1)


def train(model, train_loader, optimizer, epoch):
    model.train()
    for data, target in train_loader:
        optimizer.zero_grad()
        F.nll_loss(model(data), target).backward()
        optimizer.step()


def test(model, test_loader):
    test_loss = 0
    correct = 0
    for data, target in test_loader:
        data, target = Variable(data, volatile=True), Variable(target)
        output = model(data)  # expect: BN101
        test_loss += F.nll_loss(output, target, size_average=False).data[0]
        correct += output.data.max(1)[1].eq(target.data).sum()
    print(test_loss, correct)


def main(train_loader, test_loader):
    model = Net()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    for epoch in range(1, 15):
        train(model, train_loader, optimizer, epoch)
        test(model, test_loader)
