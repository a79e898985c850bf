"""Small but faithful copies of common architectures, built the way their papers' code does."""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """ResNet's basic block: conv-bn-relu twice, identity or projected shortcut."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, layers: tuple[int, ...] = (1, 1), classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        stages = []
        channels = 16
        for index, blocks in enumerate(layers):
            planes = 16 * 2**index
            stride = 1 if index == 0 else 2
            stage = [BasicBlock(channels, planes, stride)]
            stage += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*stage))
            channels = planes
        self.layer1 = stages[0]
        self.layer2 = stages[1] if len(stages) > 1 else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet() -> nn.Module:
    return ResNet()


class ResNetBiasedStem(ResNet):
    """A port that kept the conv bias in the stem (BN202 at the stem's conv)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand (1x1), depthwise (3x3), project (1x1, linear)."""

    def __init__(self, inp: int, oup: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = inp * expand
        self.use_res = stride == 1 and inp == oup
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU6(inplace=True),
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 2, 6),
            InvertedResidual(24, 24, 1, 6),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(24, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.classifier(x)


def mobilenet() -> nn.Module:
    return MobileNetV2()


class Generator(nn.Module):
    """DCGAN generator: transposed convs with BatchNorm, tanh output."""

    def __init__(self, nz: int = 16, ngf: int = 8) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, ndf: int = 8) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten(1)


class SimSiamProjector(nn.Module):
    """SimSiam/BYOL-style SSL model: the projector ends in BatchNorm1d(affine=False)."""

    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.projector = nn.Sequential(
            nn.Linear(16, dim, bias=False),
            nn.BatchNorm1d(dim),
            nn.ReLU(inplace=True),
            nn.Linear(dim, dim, bias=False),
            nn.BatchNorm1d(dim, affine=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(x))


class ArcFaceEmbedding(nn.Module):
    """insightface's iresnet head: features = BatchNorm1d with its scale frozen at 1."""

    def __init__(self, embedding: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.PReLU(16),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.fc = nn.Linear(64, embedding)
        self.features = nn.BatchNorm1d(embedding, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(self.body(x))
        x = self.features(x)
        return x


class BNNeckReID(nn.Module):
    """Bag-of-tricks re-ID: the BNNeck feeds the ID classifier in training, the embedding in eval."""

    def __init__(self, classes: int = 20) -> None:
        super().__init__()
        self.base = ResNet(layers=(1,), classes=1)
        self.base.fc = nn.Identity()
        self.bottleneck = nn.BatchNorm1d(16)
        self.bottleneck.bias.requires_grad_(False)
        self.classifier = nn.Linear(16, classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        global_feat = self.base(x)
        feat = self.bottleneck(global_feat)
        if self.training:
            return self.classifier(feat)
        return feat


class VAE(nn.Module):
    """A convolutional VAE whose forward samples the latent, in eval too (as many do)."""

    def __init__(self, latent: int = 8) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 4, 2, 1, bias=False),
            nn.BatchNorm2d(16),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.mu = nn.Linear(16 * 4 * 4, latent)
        self.logvar = nn.Linear(16 * 4 * 4, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 3 * 8 * 8), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z).view(-1, 3, 8, 8), mu, logvar


class PreNormTransformer(nn.Module):
    """A ViT-style encoder with LayerNorm (correct) and a classification token."""

    def __init__(self, dim: int = 16, depth: int = 2, classes: int = 5) -> None:
        super().__init__()
        self.embed = nn.Linear(12, dim)
        layer = nn.TransformerEncoderLayer(
            dim, 2, 32, dropout=0.1, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.encoder(self.embed(tokens), src_key_padding_mask=mask)
        return self.head(self.norm(x[:, 0]))


class BatchNormTransformer(nn.Module):
    """A port that swapped LayerNorm for BatchNorm1d inside the attention block (BN205)."""

    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.norm = nn.BatchNorm1d(dim)
        self.head = nn.Linear(dim, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.attention(x, x, x)
        y = self.norm((x + y).transpose(1, 2)).transpose(1, 2)
        return self.head(y.mean(1))


class TextClassifier(nn.Module):
    """Takes keyword inputs, like Hugging Face models: input_ids and attention_mask."""

    def __init__(self, vocab: int = 100, dim: int = 16) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(vocab, dim)
        self.encoder = PreNormTransformer(dim=dim)
        self.encoder.embed = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.encoder(self.embeddings(input_ids), attention_mask == 0))


def text_classifier_with_inputs() -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """A factory that returns the model and its example inputs (keyword inputs)."""
    inputs = {
        "input_ids": torch.randint(0, 100, (4, 12)),
        "attention_mask": torch.ones(4, 12, dtype=torch.long),
    }
    return TextClassifier(), inputs


class LazyNet(nn.Module):
    """Lazy layers: shapes are known only after the first batch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.LazyConv2d(8, 3, bias=False)
        self.bn = nn.LazyBatchNorm2d()
        self.head = nn.LazyLinear(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


def lazy_biased() -> nn.Module:
    return nn.Sequential(nn.LazyConv2d(8, 3), nn.LazyBatchNorm2d(), nn.ReLU())


def chatty() -> nn.Module:
    """A factory that prints, as many do (a parameter count)."""
    model = ResNetBiasedStem()
    print(f"built model with {sum(p.numel() for p in model.parameters())} parameters")
    return model
