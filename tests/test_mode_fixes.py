"""The mode rules' fixes never produce the next bug: `--fix --unsafe-fixes` over the mode
fixtures leaves no finding that was not there before (a fixed BN101 that left a training loop
in eval mode would be a new BN102), `eval()` goes before the loop over the evaluated items
rather than inside it, and BN101 and BN105 never insert the same call twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .cli_helpers import run_bnlint
from .conftest import FIXTURES


def _findings(folder: Path) -> list[tuple[str, str]]:
    result = run_bnlint(
        ["check", "--no-cache", "--select", "BN1", "--format", "json", "--exit-zero", "."],
        folder,
    )
    assert result.exit_code == 0, result.stderr
    return sorted((f["filename"], f["code"]) for f in json.loads(result.stdout))


def test_fixing_the_mode_fixtures_adds_no_finding(tmp_path: Path) -> None:
    folder = tmp_path / "mode"
    shutil.copytree(FIXTURES / "mode", folder)
    before = _findings(folder)
    assert ("gan_samples_in_train_mode.py", "BN101") in before
    fixed = run_bnlint(
        ["check", "--no-cache", "--select", "BN1", "--fix", "--unsafe-fixes", "--exit-zero", "."],
        folder,
    )
    assert fixed.exit_code == 0, fixed.stderr
    after = _findings(folder)
    assert [f for f in after if f not in before] == []
    assert not [f for f in after if f[1] == "BN101"]
    # The sampler inside the epoch loop: eval() before sampling, train() back at the top.
    text = (folder / "gan_samples_in_train_mode.py").read_text(encoding="utf-8")
    assert text.count("netG.eval()") == 1
    assert text.count("netG.train()") == 1
    assert text.index("netG.train()") < text.index("for real, _ in loader:")


EVALUATE = """\
import torch
from torchvision.models import resnet18


def evaluate(checkpoint, loader):
    model = resnet18()
    model.load_state_dict(torch.load(checkpoint))
    correct = 0
    for images, labels in loader:
        correct += (model(images).argmax(1) == labels).sum().item()
    return correct
"""


def test_the_eval_call_goes_before_the_loop_over_items(tmp_path: Path) -> None:
    (tmp_path / "evaluate.py").write_text(EVALUATE, encoding="utf-8")
    result = run_bnlint(
        ["check", "--no-cache", "--select", "BN101", "--fix", "--unsafe-fixes", "."], tmp_path
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = (tmp_path / "evaluate.py").read_text(encoding="utf-8").splitlines()
    assert lines.count("    model.eval()") == 1
    assert lines.index("    model.eval()") == lines.index("    for images, labels in loader:") - 1


BARE_EVAL = """\
import torch
from torchvision.models import resnet18


def predict(path, images):
    model = resnet18()
    model.load_state_dict(torch.load(path))
    model.eval
    with torch.no_grad():
        return model(images)
"""


def test_bn101_and_bn105_insert_one_eval_call(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text(BARE_EVAL, encoding="utf-8")
    before = _findings(tmp_path)
    assert ("predict.py", "BN105") in before
    assert ("predict.py", "BN101") in before
    result = run_bnlint(
        ["check", "--no-cache", "--select", "BN1", "--fix", "--unsafe-fixes", "."], tmp_path
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    text = (tmp_path / "predict.py").read_text(encoding="utf-8")
    assert text.count("model.eval") == 1
    assert "    model.eval()\n" in text
