"""BN202's `bias=False` against real checkpoints: safe only where nothing can load one.

A state dict is saved from the model before the fix and loaded into the model `--fix`
produced. Where another file of the project loads weights, the fix must be unsafe (plain
`--fix` leaves the file alone) and the test shows why: strict loading fails on the bias, and
`strict=False` silently changes the outputs. Where nothing loads weights, the safe fix keeps
what the model computes.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from .cli_helpers import run_bnlint

torch = pytest.importorskip("torch")

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.head(x.relu().mean((2, 3)))
"""

RESUME = """\
import torch

from model import Net

model = Net()
model.load_state_dict(torch.load("last.pt"))
"""

TRAIN_ONLY = """\
import torch

from model import Net

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
torch.save(model.state_dict(), "last.pt")
"""


def _project(tmp_path: Path, script: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "train.py").write_text(script, encoding="utf-8")
    return tmp_path / "model.py"


def _bias_fix(tmp_path: Path) -> dict[str, object]:
    result = run_bnlint(
        ["check", "--select", "BN202", "--format", "json", "--no-cache", "--exit-zero", "."],
        tmp_path,
    )
    findings = [f for f in json.loads(result.stdout) if f["code"] == "BN202"]
    assert len(findings) == 1, result.stdout
    fix = findings[0]["fix"]
    assert isinstance(fix, dict)
    return fix


def _net(source: str) -> torch.nn.Module:
    namespace = types.ModuleType("model_under_test")
    exec(compile(source, "model.py", "exec"), namespace.__dict__)
    torch.manual_seed(0)
    net: torch.nn.Module = namespace.Net()
    return net


def _trained(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state dict whose conv bias is far from zero, as after training."""
    with torch.no_grad():
        net.conv.bias.uniform_(-3.0, 3.0)
        net(torch.randn(16, 3, 8, 8))  # running statistics now include the bias
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_fix_is_unsafe_when_another_file_loads_a_checkpoint(tmp_path: Path) -> None:
    model = _project(tmp_path, RESUME)
    fix = _bias_fix(tmp_path)
    assert fix["applicability"] == "unsafe"
    assert "train.py" in str(fix["message"])
    assert "load_state_dict" in str(fix["message"])

    saved = _trained(_net(MODEL))
    run_bnlint(["check", "--fix", "--select", "BN202", "--no-cache", "--exit-zero", "."], tmp_path)
    assert model.read_text(encoding="utf-8") == MODEL  # plain --fix leaves it alone

    run_bnlint(
        ["check", "--fix", "--unsafe-fixes", "--select", "BN202", "--no-cache", "--exit-zero", "."],
        tmp_path,
    )
    fixed_source = model.read_text(encoding="utf-8")
    assert "bias=False" in fixed_source
    fixed = _net(fixed_source)
    # The checkpoint saved before the fix no longer loads strictly ...
    with pytest.raises(RuntimeError, match=r"conv\.bias"):
        fixed.load_state_dict(saved)
    # ... and with strict=False it loads without a word but computes something else in
    # eval mode: the running mean still holds the bias the conv no longer adds.
    result = fixed.load_state_dict(saved, strict=False)
    assert result.unexpected_keys == ["conv.bias"]
    original = _net(MODEL)
    original.load_state_dict(saved)
    x = torch.randn(4, 3, 8, 8)
    original.eval()
    fixed.eval()
    with torch.no_grad():
        assert not torch.allclose(original(x), fixed(x), atol=1e-3)


def test_safe_fix_keeps_what_the_model_computes(tmp_path: Path) -> None:
    model = _project(tmp_path, TRAIN_ONLY)
    fix = _bias_fix(tmp_path)
    assert fix["applicability"] == "safe"

    saved = _trained(_net(MODEL))
    run_bnlint(["check", "--fix", "--select", "BN202", "--no-cache", "--exit-zero", "."], tmp_path)
    fixed_source = model.read_text(encoding="utf-8")
    assert "bias=False" in fixed_source
    fixed = _net(fixed_source)
    # Nothing in the project loads weights; the same parameters without the bias compute
    # the same outputs in training mode, where BatchNorm subtracts the batch mean.
    fixed.load_state_dict({k: v for k, v in saved.items() if k != "conv.bias"})
    original = _net(MODEL)
    original.load_state_dict(saved)
    x = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(original(x), fixed(x), atol=1e-4)
