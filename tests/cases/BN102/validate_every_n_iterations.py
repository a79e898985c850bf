# A trainer validates every `val_interval` iterations inside the batch loop, before the
# training step; `self.validate()` leaves the model in eval mode, so every following step until
# the next epoch trains with frozen BatchNorm statistics and Dropout off.
import torch
import torch.nn as nn
from torchvision.models import resnet50


class Trainer:
    def __init__(self, train_loader, val_loader, val_interval=500):
        self.model = resnet50(num_classes=100)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.criterion = nn.CrossEntropyLoss()
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.val_interval = val_interval

    def validate(self):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in self.val_loader:
                correct += (self.model(images).argmax(1) == labels).sum().item()
        return correct

    def train_epoch(self):
        self.model.train()
        for iteration, (images, labels) in enumerate(self.train_loader):
            if iteration % self.val_interval == 0:
                print("val", self.validate())
            loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad()
            loss.backward()  # expect: BN102
            self.optimizer.step()

    def train_epoch_restoring_mode(self):
        for iteration, (images, labels) in enumerate(self.train_loader):
            if iteration % self.val_interval == 0:
                print("val", self.validate())
            self.model.train()
            loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
