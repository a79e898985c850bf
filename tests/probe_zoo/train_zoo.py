"""Correct training scripts for each architecture family, a few steps each, as their reference
code writes them: `bnlint run` must stay silent on every one. `--bug
no-eval,probe-in-train-mode` puts back the two mistakes the probe exists for."""

from __future__ import annotations

import copy
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tests.probe_zoo.vision import (
    VAE,
    ArcFaceEmbedding,
    BNNeckReID,
    Discriminator,
    Generator,
    PreNormTransformer,
    SimSiamProjector,
    mobilenet,
    resnet,
)


def classifier(build, size: int) -> None:  # type: ignore[no-untyped-def]
    data = TensorDataset(torch.randn(32, 3, size, size), torch.randint(0, 10, (32,)))
    train_loader = DataLoader(data, batch_size=8, shuffle=True, drop_last=True)
    val_loader = DataLoader(data, batch_size=16)
    model = build()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(2):
        model.train()
        for images, labels in train_loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if "no-eval" not in BUGS:
            model.eval()
        with torch.no_grad():
            correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in val_loader)
    print(type(model).__name__, "accuracy", correct / 32)


def dcgan() -> None:
    gen, disc = Generator(), Discriminator()
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in range(3):
        real = torch.randn(16, 3, 16, 16)
        fake = gen(torch.randn(16, 16, 1, 1))
        d_loss = F.softplus(-disc(real)).mean() + F.softplus(disc(fake.detach())).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-disc(fake)).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    gen.eval()
    with torch.no_grad():
        print("samples", tuple(gen(torch.randn(4, 16, 1, 1)).shape))


def byol() -> None:
    """An online network and an EMA target in training mode, then a linear probe (frozen, eval)."""
    online = SimSiamProjector()
    predictor = nn.Sequential(
        nn.Linear(32, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 32)
    )
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.SGD([*online.parameters(), *predictor.parameters()], lr=0.05)
    for _ in range(3):
        x1, x2 = torch.randn(16, 3, 8, 8), torch.randn(16, 3, 8, 8)
        p1, p2 = predictor(online(x1)), predictor(online(x2))
        with torch.no_grad():
            z1, z2 = target(x1), target(x2)
        loss = -(F.cosine_similarity(p1, z2).mean() + F.cosine_similarity(p2, z1).mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for po, pt in zip(online.parameters(), target.parameters(), strict=True):
                pt.mul_(0.99).add_(po, alpha=0.01)
    # Linear evaluation protocol: the encoder frozen in eval mode, only the head trains.
    encoder, head = online.encoder, nn.Linear(16, 10)
    if "probe-in-train-mode" not in BUGS:
        encoder.eval()
    head_optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for _ in range(3):
        with torch.no_grad():
            features = encoder(torch.randn(16, 3, 8, 8))
        loss = F.cross_entropy(head(features), torch.randint(0, 10, (16,)))
        head_optimizer.zero_grad()
        loss.backward()
        head_optimizer.step()
    print("byol done")


def reid() -> None:
    model = BNNeckReID()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    for _ in range(2):
        images, labels = torch.randn(16, 3, 16, 16), torch.arange(16) % 4
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        gallery = F.normalize(model(torch.randn(8, 3, 16, 16)))
    print("gallery", tuple(gallery.shape))


def arcface() -> None:
    backbone = ArcFaceEmbedding()
    margin_weight = nn.Parameter(torch.randn(10, 32))
    optimizer = torch.optim.SGD([*backbone.parameters(), margin_weight], lr=0.1)
    for _ in range(2):
        embeddings = backbone(torch.randn(16, 3, 8, 8))
        cosine = F.linear(F.normalize(embeddings), F.normalize(margin_weight))
        loss = F.cross_entropy(30.0 * cosine, torch.randint(0, 10, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    backbone.eval()
    with torch.no_grad():
        print("embedding", tuple(backbone(torch.randn(2, 3, 8, 8)).shape))


def vae() -> None:
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        x = torch.rand(16, 3, 8, 8)
        recon, mu, logvar = model(x)
        kld = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
        loss = F.binary_cross_entropy(recon, x) + kld
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        print("reconstruction", tuple(model(torch.rand(2, 3, 8, 8))[0].shape))


def transformer() -> None:
    model = PreNormTransformer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    for _ in range(3):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(torch.randn(8, 6, 12)), torch.randint(0, 5, (8,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.inference_mode():
        print("logits", tuple(model(torch.randn(2, 6, 12)).shape))


BUGS = set(sys.argv[sys.argv.index("--bug") + 1].split(",")) if "--bug" in sys.argv else set()

if __name__ == "__main__":
    torch.manual_seed(0)
    classifier(resnet, 16)
    classifier(lambda: resnet().to(memory_format=torch.channels_last), 16)
    classifier(mobilenet, 32)
    dcgan()
    byol()
    reid()
    arcface()
    vae()
    transformer()
