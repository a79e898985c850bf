# The model is built in the main block and passed down main -> run() -> fit() -> score()
# without any train()/eval() call on the way: it is still in training mode when scored.
import torch
import torch.nn as nn


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU()
        )
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(self.drop(self.features(x).mean((2, 3))))


def score(model, loader):
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()  # expect: BN101
            total += labels.numel()
    return correct / max(total, 1)


def score_in_eval_mode(model, loader):
    was_training = model.training
    model.eval()
    with torch.no_grad():
        hits = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    model.train(was_training)
    return hits


def fit(model, train_loader, test_loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(epochs):
        for images, labels in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
        print(epoch, score(model, test_loader), score_in_eval_mode(model, test_loader))


def run(model, loaders, epochs=30):
    train_loader, test_loader = loaders
    fit(model, train_loader, test_loader, epochs)


if __name__ == "__main__":
    model = Classifier(num_classes=10)
    run(model=model, loaders=([], []), epochs=1)
