import torch.nn as nn


class FaceEmbedding(nn.Module):
    """insightface-style head: the last BatchNorm's scale is frozen so the embedding keeps
    unit scale for the margin loss; it is an embedding, not class scores."""

    def __init__(self, embedding_size=512):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        self.pool = nn.AdaptiveAvgPool2d(7)
        self.fc = nn.Linear(64 * 7 * 7, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

    def forward(self, x):
        x = self.pool(self.body(x)).flatten(1)
        x = self.fc(x)
        x = self.features(x)
        return x


class FaceEmbeddingInPlaceFreeze(nn.Module):
    def __init__(self, embedding_size=512):
        super().__init__()
        self.fc = nn.Linear(2048, embedding_size)
        self.features = nn.BatchNorm1d(embedding_size)
        self.features.weight.requires_grad_(False)

    def forward(self, x):
        return self.features(self.fc(x))


class ScoresWithTrainableNorm(nn.Module):
    """The same shape with a trainable scale (and another layer frozen): class scores."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.fc = nn.Linear(2048, num_classes)
        self.scores = nn.BatchNorm1d(num_classes)
        self.fc.weight.requires_grad = False

    def forward(self, x):
        x = self.fc(x)
        x = self.scores(x)  # expect: BN201
        return x
