from torch import nn


class Classifier(nn.Module):
    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2048, num_classes),
            nn.BatchNorm1d(num_classes),  # expect: BN201
        )

    def forward(self, images):
        features = self.backbone(images)
        return self.head(features)
