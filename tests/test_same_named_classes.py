"""One class name defined in several folders of a project, as GAN and tutorial collections
do (`implementations/srgan/models.py` and `implementations/cyclegan/models.py` both define
`GeneratorResNet`, one with BatchNorm, one with InstanceNorm). A script's
`from models import *` names the module beside it, and every family must read that one:
BN301 reports the BatchNorm twin's small batch and stays silent on the InstanceNorm twin's.
Run as a user would: `bnlint check` over the whole collection."""

from __future__ import annotations

import json
from pathlib import Path

from .cli_helpers import run_bnlint

MODELS = """\
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, channels=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1, bias=False),
            NORM(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, 3, 3, padding=1),
        )

    def forward(self, x):
        return self.body(x)
"""

TRAIN = """\
import argparse

import torch
from torch.utils.data import DataLoader, TensorDataset

from models import *

parser = argparse.ArgumentParser()
parser.add_argument("--batch_size", type=int, default=4)
opt = parser.parse_args()

generator = Generator()
optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4)
data = TensorDataset(torch.randn(64, 3, 32, 32))
loader = DataLoader(data, batch_size=opt.batch_size, shuffle=True)

for epoch in range(10):
    for (images,) in loader:
        loss = (generator(images) - images).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def _collection(root: Path) -> Path:
    (root / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    for folder, norm in (("srgan", "nn.BatchNorm2d"), ("cyclegan", "nn.InstanceNorm2d")):
        (root / folder).mkdir()
        (root / folder / "models.py").write_text(MODELS.replace("NORM", norm), encoding="utf-8")
        (root / folder / "train.py").write_text(TRAIN, encoding="utf-8")
    return root


def test_a_star_import_reads_the_class_of_the_module_beside_the_script(tmp_path: Path) -> None:
    root = _collection(tmp_path)
    result = run_bnlint(["check", "--select", "BN301", "--format", "json", "--no-cache", "."], root)
    assert result.exit_code == 1, result.stderr
    found = {(f["code"], f["filename"].replace("\\", "/")) for f in json.loads(result.stdout)}
    assert found == {("BN301", "srgan/train.py")}
