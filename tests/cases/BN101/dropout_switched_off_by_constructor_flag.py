import torch
import torch.nn as nn


class MLP(nn.Module):
    # Dropout is applied only when the `dropout` flag is passed on; it defaults to off.
    def __init__(self, indim, hiddim, outdim, dropout=False, p=0.1):
        super().__init__()
        self.fc = nn.Linear(indim, hiddim)
        self.fc2 = nn.Linear(hiddim, outdim)
        self.dropout_layer = nn.Dropout(p)
        self.dropout = dropout

    def forward(self, x):
        x = torch.relu(self.fc(x))
        if self.dropout:
            x = self.dropout_layer(x)
        return self.fc2(x)


class AlwaysDrops(nn.Module):
    def __init__(self, indim, outdim, dropout=False):
        super().__init__()
        self.fc = nn.Linear(indim, outdim)
        self.drop = nn.Dropout(0.5)
        self.dropout = dropout

    def forward(self, x):
        # The flag guards nothing here: the Dropout is always applied.
        return self.drop(self.fc(x))


def test_default_head(loader):
    head = MLP(400, 200, 5)
    with torch.no_grad():
        for features, _ in loader:
            print(head(features).argmax(1))


def test_head_with_dropout_on(loader):
    head = MLP(400, 200, 5, dropout=True)
    with torch.no_grad():
        for features, _ in loader:
            print(head(features).argmax(1))  # expect: BN101


def test_head_with_dropout_on_by_position(loader):
    head = MLP(400, 200, 5, True)
    with torch.no_grad():
        for features, _ in loader:
            print(head(features).argmax(1))  # expect: BN101


def test_head_with_flag_from_caller(loader, use_dropout):
    head = MLP(400, 200, 5, dropout=use_dropout)
    with torch.no_grad():
        for features, _ in loader:
            print(head(features).argmax(1))  # expect: BN101


def test_unguarded_dropout(loader):
    head = AlwaysDrops(400, 5)
    with torch.no_grad():
        for features, _ in loader:
            print(head(features).argmax(1))  # expect: BN101
