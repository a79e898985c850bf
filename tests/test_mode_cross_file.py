"""The mode rules across the files of a project, run as a user would: `bnlint check` over a
folder. Each project is a small training or inference code base in the shape real ones take
(a UNet package with star imports, a detector beside an unrelated class of the same name, a
project's own model factories, pickled models, losses in their own module); each positive
has a negative twin, the same project fixed or without the layers that make the mode matter,
which must stay silent."""

from __future__ import annotations

import json
from pathlib import Path

from .cli_helpers import run_bnlint

Finding = tuple[str, str, int]


def _project(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _findings(root: Path) -> set[Finding]:
    """(code, file, line) of every BN1xx finding `bnlint check` reports over `root`."""
    result = run_bnlint(["check", "--select", "BN1", "--format", "json", "--no-cache", "."], root)
    assert result.exit_code in (0, 1), result.stderr
    reported = json.loads(result.stdout)
    found = {(f["code"], f["filename"], f["location"]["row"]) for f in reported}
    assert result.exit_code == (1 if found else 0), result.stdout
    return found


def _line(text: str, snippet: str, after: str = "") -> int:
    """The line of `text` holding `snippet`, which must occur exactly once (after the first
    line holding `after`, when given)."""
    lines = text.splitlines()
    start = next(row for row, line in enumerate(lines, start=1) if after in line) if after else 0
    rows = [row for row, line in enumerate(lines, start=1) if row > start and snippet in line]
    assert len(rows) == 1, f"{snippet!r} on lines {rows}"
    return rows[0]


def _replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# A UNet package whose parts come in through `from .unet_parts import *`; the model is built in
# the script's main block and reaches `eval_net()` three calls down, through keyword arguments.
UNET_PARTS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.pool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.pool_conv(x)


class Up(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, x):
        return self.conv(x)
"""

UNET_MODEL = """\
from .unet_parts import *


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes):
        super().__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.inc = DoubleConv(n_channels, 64)
        self.down1 = Down(64, 128)
        self.up1 = Up(192, 64)
        self.outc = OutConv(64, n_classes)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        return self.outc(self.up1(x2, x1))
"""

UNET_EVAL = """\
import torch
import torch.nn.functional as F


def dice_coeff(input, target, epsilon=1e-6):
    inter = 2 * (input * target).sum()
    return (inter + epsilon) / (input.sum() + target.sum() + epsilon)


def eval_net(net, loader, device):
    n_val = len(loader)
    tot = 0.0
    for batch in loader:
        imgs, true_masks = batch["image"], batch["mask"]
        imgs = imgs.to(device=device, dtype=torch.float32)
        with torch.no_grad():
            mask_pred = net(imgs)
        pred = (torch.sigmoid(mask_pred) > 0.5).float()
        tot += dice_coeff(pred, true_masks.to(device=device)).item()
    return tot / max(n_val, 1)
"""

UNET_TRAIN = """\
import argparse

import torch
import torch.nn as nn
from torch import optim

from eval import eval_net
from unet import UNet


def run_validation(net, val_loader, device, epoch):
    val_score = eval_net(net, val_loader, device)
    print(f"epoch {epoch}: validation Dice {val_score:.4f}")
    return val_score


def train_net(net, device, train_loader, val_loader, epochs=5, lr=0.001):
    optimizer = optim.RMSprop(net.parameters(), lr=lr, weight_decay=1e-8, momentum=0.9)
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        for batch in train_loader:
            imgs = batch["image"].to(device=device, dtype=torch.float32)
            true_masks = batch["mask"].to(device=device, dtype=torch.float32)
            loss = criterion(net(imgs), true_masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        run_validation(net, val_loader, device, epoch)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = UNet(n_channels=3, n_classes=1)
    if torch.cuda.device_count() > 1:
        net = nn.DataParallel(net)
    net = net.cuda()
    train_net(net=net, device=device, train_loader=[], val_loader=[], epochs=args.epochs)
"""

UNET_INIT = "from .unet_model import UNet\n"


def _unet(root: Path, changed: dict[str, str] | None = None) -> Path:
    files = {
        "unet/__init__.py": UNET_INIT,
        "unet/unet_parts.py": UNET_PARTS,
        "unet/unet_model.py": UNET_MODEL,
        "eval.py": UNET_EVAL,
        "train.py": UNET_TRAIN,
    }
    return _project(root, {**files, **(changed or {})})


def test_model_passed_down_from_the_main_block_into_another_module(tmp_path: Path) -> None:
    # main -> train_net(net=net) -> run_validation(net) -> eval_net(net): never put in eval mode.
    assert _findings(_unet(tmp_path)) == {
        ("BN101", "eval.py", _line(UNET_EVAL, "mask_pred = net(imgs)")),
    }


def test_evaluation_that_switches_modes_is_silent(tmp_path: Path) -> None:
    fixed = _replaced(
        UNET_EVAL, "    n_val = len(loader)\n", "    net.eval()\n    n_val = len(loader)\n"
    )
    fixed = _replaced(fixed, "    return tot", "    net.train()\n    return tot")
    assert _findings(_unet(tmp_path, {"eval.py": fixed})) == set()


def test_star_imported_parts_without_batch_norm_are_silent(tmp_path: Path) -> None:
    # The star import is followed to the parts: no BatchNorm, no Dropout, no mode to forget.
    plain = UNET_PARTS.replace("            nn.BatchNorm2d(out_channels),\n", "")
    assert plain != UNET_PARTS
    assert _findings(_unet(tmp_path, {"unet/unet_parts.py": plain})) == set()


# Two unrelated classes named `Net`: each script's import decides which one it runs.
DETECTION_MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, num_classes=80):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.SiLU(),
        )
        self.head = nn.Conv2d(32, num_classes + 5, 1)

    def forward(self, x):
        return self.head(self.stem(x))
"""

PROBE_MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, dim=512, num_classes=10):
        super().__init__()
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.fc(x)
"""

DETECTION_INFER = """\
import torch

from detection.model import Net


def detect(weights, images):
    model = Net(num_classes=80)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    with torch.no_grad():
        return model(images).sigmoid()
"""

PROBE_INFER = """\
import torch

from probe.model import Net


def classify(weights, features):
    model = Net(dim=512, num_classes=10)
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    with torch.no_grad():
        return model(features).argmax(1)
"""

DEMO = """\
import torch

from detection.model import Net as Detector
from probe.model import Net as Probe

detector = Detector()
detector.load_state_dict(torch.load("detector.pt"))
probe = Probe()
probe.load_state_dict(torch.load("probe.pt"))
with torch.no_grad():
    boxes = detector(torch.rand(1, 3, 640, 640))
    labels = probe(torch.rand(1, 512)).argmax(1)
"""


def test_imported_classes_resolve_to_their_own_module(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        {
            "detection/__init__.py": "",
            "detection/model.py": DETECTION_MODEL,
            "detection/infer.py": DETECTION_INFER,
            "probe/__init__.py": "",
            "probe/model.py": PROBE_MODEL,
            "probe/infer.py": PROBE_INFER,
            "demo.py": DEMO,
        },
    )
    assert _findings(root) == {
        ("BN101", "detection/infer.py", _line(DETECTION_INFER, "return model(images)")),
        ("BN101", "demo.py", _line(DEMO, "boxes = detector(")),
    }


def test_imported_detector_put_in_eval_mode_is_silent(tmp_path: Path) -> None:
    fixed = _replaced(
        DETECTION_INFER, "    with torch.no_grad():", "    model.eval()\n    with torch.no_grad():"
    )
    demo = _replaced(DEMO, "probe = Probe()", "detector.eval()\nprobe = Probe()")
    root = _project(
        tmp_path,
        {
            "detection/__init__.py": "",
            "detection/model.py": DETECTION_MODEL,
            "detection/infer.py": fixed,
            "probe/__init__.py": "",
            "probe/model.py": PROBE_MODEL,
            "probe/infer.py": PROBE_INFER,
            "demo.py": demo,
        },
    )
    assert _findings(root) == set()


# A project's own factories: one returns a new model, one a model ready for inference, and a
# CIFAR module whose factories a script looks up by name.
FACTORY = """\
import torch
import torch.nn as nn
import torchvision.models as models


def resnet50(classes):
    net = models.resnet50()
    net.fc = nn.Linear(net.fc.in_features, classes)
    return net


def resnet50_for_inference(classes, weights):
    net = models.resnet50()
    net.fc = nn.Linear(net.fc.in_features, classes)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    return net.eval()
"""

CIFAR_RESNET = """\
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, planes):
        super().__init__()
        self.conv = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(planes)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)


class ResNet(nn.Module):
    def __init__(self, depth, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.blocks = nn.Sequential(*[BasicBlock(16) for _ in range(depth)])
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def resnet20(num_classes=10):
    return ResNet(3, num_classes)


def resnet56(num_classes=10):
    return ResNet(9, num_classes)
"""

PREDICT = """\
import argparse

import torch

import nets.cifar_resnet as resnet
from nets.factory import resnet50, resnet50_for_inference


def classify(weights, images):
    net = resnet50(classes=7)
    net.load_state_dict(torch.load(weights, map_location="cpu"))
    with torch.no_grad():
        probabilities = net(images).softmax(1)
    return probabilities


def classify_ready(weights, images):
    net = resnet50_for_inference(7, weights)
    with torch.no_grad():
        return net(images).argmax(1)


def evaluate_cifar(arch, weights, loader):
    model = resnet.__dict__[arch](num_classes=10)
    model.load_state_dict(torch.load(weights))
    correct = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct


def evaluate_cifar_in_eval_mode(arch, weights, loader):
    model = resnet.__dict__[arch](num_classes=10)
    model.load_state_dict(torch.load(weights))
    model.eval()
    with torch.no_grad():
        return sum((model(x).argmax(1) == y).sum().item() for x, y in loader)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="resnet20")
    args = parser.parse_args()
    print(evaluate_cifar(args.arch, "cifar.pt", []))
"""


def _factories(root: Path, predict: str = PREDICT, factory: str = FACTORY) -> Path:
    return _project(
        root,
        {
            "nets/__init__.py": "",
            "nets/factory.py": factory,
            "nets/cifar_resnet.py": CIFAR_RESNET,
            "predict.py": predict,
        },
    )


def test_models_from_project_factories_in_another_module(tmp_path: Path) -> None:
    # `resnet50(classes)` returns a new model in training mode; `resnet50_for_inference` ends
    # with `.eval()`; `resnet.__dict__[arch]` looks a project factory up by name.
    assert _findings(_factories(tmp_path)) == {
        ("BN101", "predict.py", _line(PREDICT, "probabilities = net(images)")),
        ("BN101", "predict.py", _line(PREDICT, "correct += (model(images)")),
    }


def test_project_factory_that_returns_an_eval_model_is_silent(tmp_path: Path) -> None:
    factory = _replaced(
        FACTORY,
        "    net.fc = nn.Linear(net.fc.in_features, classes)\n    return net\n",
        "    net.fc = nn.Linear(net.fc.in_features, classes)\n    return net.eval()\n",
    )
    predict = _replaced(
        PREDICT,
        "    correct = 0\n",
        "    model.eval()\n    correct = 0\n",
    )
    assert _findings(_factories(tmp_path, predict, factory)) == set()


# Whole models pickled with `torch.save(model)` and loaded back beside their class.
MLP_MODEL = """\
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, in_dim=13, hidden=64, out_dim=1):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x):
        return self.out(self.layers(x))
"""

CNN_MODEL = """\
import torch.nn as nn


class CNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.fc(self.drop(self.features(x).mean((2, 3))))
"""

PICKLED_PREDICT = """\
import torch

model = torch.load("mlp.pth", weights_only=False)
with torch.no_grad():
    prediction = model(torch.rand(1, 13))
print(prediction.item())
"""


def test_pickled_model_matters_only_where_its_folder_has_mode_layers(tmp_path: Path) -> None:
    # `torch.load` of a whole pickled model: its class is one of those beside the script.
    cnn_predict = PICKLED_PREDICT.replace("torch.rand(1, 13)", "torch.rand(1, 1, 28, 28)")
    root = _project(
        tmp_path,
        {
            "mlp/model.py": MLP_MODEL,
            "mlp/predict.py": PICKLED_PREDICT,
            "cnn/model.py": CNN_MODEL,
            "cnn/predict.py": cnn_predict,
        },
    )
    assert _findings(root) == {
        ("BN101", "cnn/predict.py", _line(cnn_predict, "prediction = model(")),
    }


def test_pickled_model_put_in_eval_mode_is_silent(tmp_path: Path) -> None:
    fixed = _replaced(
        PICKLED_PREDICT, "weights_only=False)\n", "weights_only=False)\nmodel.eval()\n"
    )
    root = _project(tmp_path, {"cnn/model.py": CNN_MODEL, "cnn/predict.py": fixed})
    assert _findings(root) == set()


# A segmentation project whose losses live in their own module and reach the evaluation loops.
LOSSES = """\
import torch
from torch.nn.modules.loss import _Loss


class DiceLoss(_Loss):
    def __init__(self, smooth=1.0, from_logits=True):
        super().__init__()
        self.smooth = smooth
        self.from_logits = from_logits

    def forward(self, y_pred, y_true):
        if self.from_logits:
            y_pred = y_pred.sigmoid()
        inter = (y_pred * y_true).sum()
        return 1 - (2 * inter + self.smooth) / (y_pred.sum() + y_true.sum() + self.smooth)


class SoftBCEWithLogitsLoss(torch.nn.BCEWithLogitsLoss):
    def forward(self, y_pred, y_true):
        return super().forward(y_pred, y_true.clamp(0.05, 0.95))
"""

ENGINE = """\
import torch


def validate(model, criterion, loader, device):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for images, masks in loader:
            logits = model(images.to(device))
            total += criterion(logits, masks.to(device)).item()
    return total / max(len(loader), 1)


def validate_in_training_mode(model, criterion, loader, device):
    total = 0.0
    with torch.no_grad():
        for images, masks in loader:
            logits = model(images.to(device))
            total += criterion(logits, masks.to(device)).item()
    return total / max(len(loader), 1)
"""

SEG_TRAIN = """\
import torch
import torch.nn as nn
from torchvision.models.segmentation import fcn_resnet50

from seg.engine import validate, validate_in_training_mode
from seg.losses import DiceLoss


def main(train_loader, val_loader, device="cuda"):
    model = fcn_resnet50(num_classes=1).to(device)
    criterion = nn.CrossEntropyLoss().cuda()
    dice = DiceLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(40):
        model.train()
        for images, masks in train_loader:
            optimizer.zero_grad()
            loss = dice(model(images.to(device))["out"], masks.to(device))
            loss.backward()
            optimizer.step()
        print(epoch, validate_in_training_mode(model, dice, val_loader, device))
        print(epoch, validate(model, criterion, val_loader, device))
"""

LOSS_TESTS = """\
import pytest
import torch

from seg.losses import DiceLoss, SoftBCEWithLogitsLoss


@torch.no_grad()
def test_dice_loss_perfect_prediction():
    criterion = DiceLoss(smooth=0.0, from_logits=False)
    target = torch.ones(2, 1, 8, 8)
    assert criterion(target, target).item() == pytest.approx(0.0, abs=1e-6)


@torch.no_grad()
def test_soft_bce_is_finite():
    loss_fn = SoftBCEWithLogitsLoss()
    assert torch.isfinite(loss_fn(torch.zeros(4, 1), torch.ones(4, 1)))
"""


def _segmentation(root: Path, engine: str = ENGINE) -> Path:
    return _project(
        root,
        {
            "seg/__init__.py": "",
            "seg/losses.py": LOSSES,
            "seg/engine.py": engine,
            "train.py": SEG_TRAIN,
            "tests/test_losses.py": LOSS_TESTS,
        },
    )


def test_losses_passed_beside_the_model_are_never_models(tmp_path: Path) -> None:
    # `criterion`/`dice` (an `nn` loss and a `_Loss` subclass) are called in the same no_grad
    # loops as the model, and a pytest module calls them under `@torch.no_grad()`: only the
    # model the caller leaves in training mode is a finding.
    assert _findings(_segmentation(tmp_path)) == {
        (
            "BN101",
            "seg/engine.py",
            _line(ENGINE, "logits = model(", after="def validate_in_training_mode"),
        ),
    }


def test_losses_beside_a_model_in_eval_mode_are_silent(tmp_path: Path) -> None:
    fixed = _replaced(
        ENGINE,
        "def validate_in_training_mode(model, criterion, loader, device):\n",
        "def validate_in_training_mode(model, criterion, loader, device):\n    model.eval()\n",
    )
    assert _findings(_segmentation(tmp_path, fixed)) == set()
