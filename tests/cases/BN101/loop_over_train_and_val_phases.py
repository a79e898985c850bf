# One model call serves the train and the val phase of a loop over phases: without
# model.eval() for "val", validation runs in training mode. The fixed twin switches by phase.
import torch
import torch.nn as nn
from torchvision import models


def train_model(model, loaders, criterion, optimizer, epochs=25):
    for epoch in range(epochs):
        for phase in ["train", "val"]:
            running = 0
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)  # expect: BN101
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running += loss.item()
    return model


def train_model_fixed(model, loaders, criterion, optimizer, epochs=25):
    for epoch in range(epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
    return model


model_ft = models.resnet18(weights="IMAGENET1K_V1")
model_ft.fc = nn.Linear(512, 2)
opt = torch.optim.SGD(model_ft.parameters(), lr=0.001)
train_model(model_ft, {}, nn.CrossEntropyLoss(), opt)
train_model_fixed(model_ft, {}, nn.CrossEntropyLoss(), opt)
