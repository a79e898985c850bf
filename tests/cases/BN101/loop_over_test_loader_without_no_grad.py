import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


def fit(model, train_loader, optimizer, epochs):
    for epoch in range(epochs):
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()


def main(train_loader, test_loader, val_loader):
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, train_loader, optimizer, 5)

    # Test: the 0.3-era tutorial shape, no `no_grad` and no eval-named function around it.
    correct = 0
    for images, labels in test_loader:
        outputs = model(images)  # expect: BN101
        correct += (outputs.argmax(1) == labels).sum().item()

    total = 0.0
    for i, (images, labels) in enumerate(val_loader):
        total += nn.functional.cross_entropy(model(images), labels).item()  # expect: BN101
    return correct, total


def main_with_eval(train_loader, test_loader):
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, train_loader, optimizer, 5)
    model.eval()
    return sum((model(x).argmax(1) == y).sum().item() for x, y in test_loader)


def finetune_on_validation(val_loader):
    # Training on the validation loader is training, whatever its name.
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for images, labels in val_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()


def linear_baseline(train_loader, test_loader):
    # No BatchNorm and no Dropout: the mode changes nothing.
    model = Linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fit(model, train_loader, optimizer, 5)
    correct = 0
    for images, labels in test_loader:
        correct += (model(images).argmax(1) == labels).sum().item()
    return correct


def test_forward_shapes(test_loader):
    # A pytest function smoke-running the network on purpose.
    model = Net()
    for images, _ in test_loader:
        assert model(images).shape[1] == 10
