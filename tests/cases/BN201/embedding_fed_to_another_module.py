"""Normalized embeddings that another module reads: not a class decision."""

import torch
import torch.nn as nn


class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.linear = nn.Linear(64, embed_size)
        self.bn = nn.BatchNorm1d(embed_size, momentum=0.01)

    def forward(self, images):
        return self.bn(self.linear(self.backbone(images)))


class DecoderRNN(nn.Module):
    def __init__(self, embed_size, hidden_size, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)

    def forward(self, features, captions):
        embeddings = torch.cat((features.unsqueeze(1), self.embed(captions)), 1)
        hiddens, _ = self.lstm(embeddings)
        return self.linear(hiddens)


class FrontEnd(nn.Module):
    """A visual front end: its normalized per-frame features feed the GRU back end."""

    def __init__(self, features=256):
        super().__init__()
        self.conv = nn.Conv2d(1, 64, 3)
        self.fc = nn.Linear(64, features)
        self.bnfc = nn.BatchNorm1d(features)

    def forward(self, x):
        x = self.conv(x).mean((2, 3))
        x = self.fc(x)
        x = self.bnfc(x)
        return x


class Lipreading(nn.Module):
    def __init__(self):
        super().__init__()
        self.frontend = FrontEnd(256)
        self.gru = nn.GRU(256, 512, batch_first=True)
        self.classifier = nn.Linear(512, 500)

    def forward(self, x):
        features = self.frontend(x)
        out, _ = self.gru(features.unsqueeze(0))
        return self.classifier(out)


def train(loader):
    encoder = EncoderCNN(256)
    decoder = DecoderRNN(256, 512, 1000)
    criterion = nn.CrossEntropyLoss()
    for images, captions, targets in loader:
        features = encoder(images)
        outputs = decoder(features, captions)
        loss = criterion(outputs.flatten(0, 1), targets.flatten())
        loss.backward()
