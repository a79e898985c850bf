# A point-cloud training loop scores one test batch every 10 steps (`next(iter(test_loader))`)
# without eval(); and a PyTorch 0.3 script runs `Variable(x, volatile=True)` inputs (its
# spelling of no_grad) in training mode. Both evaluate with batch statistics.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable


class PointNetCls(nn.Module):
    def __init__(self, k=16):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 64, 1)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc = nn.Linear(64, k)
        self.dropout = nn.Dropout(p=0.3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x))).max(2)[0]
        return F.log_softmax(self.fc(self.dropout(x)), dim=1)


def train(train_loader, test_loader, epochs=25):
    classifier = PointNetCls(k=16)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.001)
    for epoch in range(epochs):
        for i, (points, target) in enumerate(train_loader):
            optimizer.zero_grad()
            classifier.train()
            loss = F.nll_loss(classifier(points.transpose(2, 1)), target)
            loss.backward()
            optimizer.step()

            if i % 10 == 0:
                _, data = next(enumerate(test_loader))
                points, target = data
                pred = classifier(points.transpose(2, 1))  # expect: BN101
                correct = pred.argmax(1).eq(target).sum().item()
                print(epoch, i, correct)


def train_segmentation(traindataloader, testdataloader, epochs=25):
    seg = PointNetCls(k=50)
    optimizer = torch.optim.Adam(seg.parameters(), lr=0.001)
    for epoch in range(epochs):
        for i, data in enumerate(traindataloader, 0):
            points, target = data
            seg.train()
            optimizer.zero_grad()
            F.nll_loss(seg(points), target).backward()
            optimizer.step()
            if i % 10 == 0:
                j, data = next(enumerate(testdataloader, 0))
                points, target = data
                pred = seg(points)  # expect: BN101
                print(epoch, i, j, pred.argmax(1).eq(target).float().mean().item())


def train_with_eval(train_loader, test_loader, epochs=25):
    classifier = PointNetCls(k=16)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.001)
    for epoch in range(epochs):
        for i, (points, target) in enumerate(train_loader):
            optimizer.zero_grad()
            classifier.train()
            loss = F.nll_loss(classifier(points.transpose(2, 1)), target)
            loss.backward()
            optimizer.step()

            if i % 10 == 0:
                points, target = next(iter(test_loader))
                classifier.eval()
                pred = classifier(points.transpose(2, 1))
                print(epoch, i, pred.argmax(1).eq(target).sum().item())


def classify_volatile(checkpoint, loader):
    classifier = PointNetCls(k=16)
    classifier.load_state_dict(torch.load(checkpoint))
    for points, target in loader:
        points = Variable(points.transpose(2, 1), volatile=True)
        pred = classifier(points)  # expect: BN101
        print(pred.data.max(1)[1].eq(target).sum())


def classify_inline_volatile(checkpoint, loader):
    classifier = torch.load(checkpoint)
    for points, _ in loader:
        print(classifier(Variable(points, volatile=True)).data.max(1)[1])  # expect: BN101


def train_volatile_free(classifier, loader, optimizer):
    # Training inputs are plain Variables: nothing here evaluates.
    for points, target in loader:
        optimizer.zero_grad()
        F.nll_loss(classifier(Variable(points)), Variable(target)).backward()
        optimizer.step()


def predict_volatile(checkpoint, points):
    classifier = PointNetCls(k=16)
    classifier.load_state_dict(torch.load(checkpoint))
    classifier.eval()
    return classifier(Variable(points, volatile=True))
