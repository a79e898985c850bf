# Two training functions, each with train() once before its loop and a validate() that
# calls eval() inside it: two bugs, two findings.
import torch
import torch.nn as nn
from torchvision.models import resnet50


def validate(model, val_loader):
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)


def train_epochs_while(train_loader, val_loader, max_epochs):
    model = resnet50()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    epoch = 0
    while epoch < max_epochs:
        for images, labels in train_loader:
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()  # expect: BN102
            optimizer.step()
        epoch += 1
        print(validate(model, val_loader))


def train_epochs_for(train_loader, val_loader, max_epochs):
    model = resnet50()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for epoch in range(max_epochs):
        for images, labels in train_loader:
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()  # expect: BN102
            optimizer.step()
        print(epoch, validate(model, val_loader))
