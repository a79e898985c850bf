"""Real rules carry the steps their analyses know: each finding explains itself with the
places that lead to it (the layer before the norm, where a batch size is written), end to
end through `bnlint check` in every format that shows steps."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import libcst as cst
import pytest

from bnlint import registry
from bnlint.diagnostics import Severity
from bnlint.registry import Rule

from .cli_helpers import run_bnlint
from .conftest import lint

SARIF_SCHEMA = Path(__file__).resolve().parent / "schemas" / "sarif-2.1.0.json"

STRUCTURE = """\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)
        self.out_bn = nn.BatchNorm1d(10)

    def forward(self, x):
        x = self.bn(self.drop(self.conv(x)))
        x = self.fc(x.mean((2, 3)))
        x = self.out_bn(x)
        return x


features = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm2d(16))
"""

BATCH = """\
import argparse

import torch
import torchvision
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=4)
args = parser.parse_args()


def main(train_set):
    model = torchvision.models.resnet18()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    ddp = DDP(model)
    for x, y in train_loader:
        loss = torch.nn.functional.cross_entropy(ddp(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

CONFIG_BATCH = """\
import torch
import torchvision
import yaml
from torch.utils.data import DataLoader

with open("config.yaml") as f:
    cfg = yaml.safe_load(f)

BATCH = cfg["train"]["batch_size"]
model = torchvision.models.resnet50()
optimizer = torch.optim.Adam(model.parameters())
train_loader = DataLoader(dataset, batch_size=BATCH)
for x, y in train_loader:
    optimizer.zero_grad()
    model(x).sum().backward()
    optimizer.step()
"""

SPLIT_BATCH = """\
import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

TOTAL_BATCH = 16


def main(dataset):
    model = torchvision.models.resnet18()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(dataset, batch_size=TOTAL_BATCH // dist.get_world_size())
    model = DistributedDataParallel(model)
    for x, y in loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
"""


def check(tmp_path: Path, files: dict[str, str], *args: str) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    scripts = [name for name in files if name.endswith(".py")]
    result = run_bnlint(["check", "--no-cache", "--exit-zero", *args, *scripts], tmp_path)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def steps_by_code(
    tmp_path: Path, files: dict[str, str], *args: str
) -> dict[tuple[str, int], list[tuple[int, int, str]]]:
    """(code, row) -> the finding's steps as (row, column, message), from the JSON output."""
    found = json.loads(check(tmp_path, files, "--output-format", "json", *args))
    return {
        (item["code"], item["location"]["row"]): [
            (step["location"]["row"], step["location"]["column"], step["message"])
            for step in item.get("related", ())
        ]
        for item in found
    }


# -- modes -------------------------------------------------------------------------------

TRAIN_AND_VALIDATE = """\
import torch
import torch.nn as nn
import torchvision


def main(train_loader, val_loader):
    model = torchvision.models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            for x, y in val_loader:
                print(model(x).argmax(1).eq(y).float().mean())
"""

EXPORT = """\
import torch
import torchvision


def main(loader):
    model = torchvision.models.resnet18()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(5):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), "model.onnx")


def export_fresh():
    net = torchvision.models.resnet50()
    torch.jit.trace(net, torch.randn(1, 3, 224, 224))
"""

FROZEN_BACKBONE = """\
import torch
import torch.nn as nn
import torchvision


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet50()
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.head = nn.Linear(1000, 10)

    def forward(self, x):
        return self.head(self.backbone(x))


def fit(loader):
    model = Classifier()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_bn101_goes_from_train_to_the_grad_free_validation(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"train.py": TRAIN_AND_VALIDATE}, "--select", "BN101")
    assert steps == {
        ("BN101", 18): [
            (9, 5, "`model.train()`: `model` is in training mode from here"),
            (16, 9, "`model` is then run under `torch.no_grad()`"),
        ]
    }


KFOLD = """\
import torch
import torch.nn as nn


def cross_validate(folds, epochs=50):
    scores = []
    for train_x, train_y, val_x in folds:
        model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 1))
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        for epoch in range(epochs):
            loss = nn.functional.mse_loss(model(train_x), train_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            scores.append(model(val_x))
    return scores
"""


def test_bn101_path_is_the_same_on_every_run() -> None:
    # A model built in each fold reaches validation directly and, on the analysis's second
    # pass, around the fold loop too: the direct path is the one shown, every time, with the
    # fold loop both are in.
    paths = set()
    for _ in range(12):
        (finding,) = lint(KFOLD, ["BN101"])
        paths.add(tuple((step.span.start.row, step.message) for step in finding.related))
    assert paths == {
        (
            (8, "built with `nn.Sequential(...)`: `model` is in training mode from here"),
            (7, "each iteration of this loop goes on from there with `model` in training mode"),
            (15, "`model` is then run under `torch.no_grad()`"),
        )
    }


HELPER = """\
import torch
import torch.nn as nn
import torchvision


def validate(model, images):
    return model(images).argmax(1)


def main(train_loader, val_images):
    model = torchvision.models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        print(validate(model, val_images))
"""


def test_bn101_in_a_helper_goes_from_the_call_to_the_helper(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"train.py": HELPER}, "--select", "BN101")
    assert steps == {
        ("BN101", 7): [
            (
                19,
                15,
                "`main()` passes it in training mode (line 19): `model` is in training mode "
                "from here",
            ),
            (6, 5, "`model` is then run in `validate()`"),
        ]
    }


TEST_AFTER_TRAINING = """\
import torch
import torch.nn as nn
import torchvision


def main(train_loader, test_loader):
    model = torchvision.models.resnet18(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    correct = 0
    for x, y in test_loader:
        correct += (model(x).argmax(1) == y).sum().item()
    print(correct)
"""


def test_bn101_goes_from_train_through_the_epoch_loop_to_the_test_loop(tmp_path: Path) -> None:
    # The issue's own example: `model.train()` -> the epoch loop -> the `test_loader` loop.
    steps = steps_by_code(tmp_path, {"train.py": TEST_AFTER_TRAINING}, "--select", "BN101")
    expected = [
        (10, 9, "`model.train()`: `model` is in training mode from here"),
        (9, 5, "the loop ends with `model` still in training mode"),
        (16, 5, "`model` is then run in the loop over `test_loader`"),
    ]
    assert steps == {("BN101", 17): expected}
    # The same path on every run (the analysis holds one fact per loop it came through).
    for _ in range(8):
        (finding,) = lint(TEST_AFTER_TRAINING, ["BN101"])
        assert [
            (step.span.start.row, step.span.start.column, step.message) for step in finding.related
        ] == expected


def test_bn102_goes_from_eval_around_the_epoch_loop(tmp_path: Path) -> None:
    source = TRAIN_AND_VALIDATE.replace(
        "        with torch.no_grad():\n", "        model.eval()\n        with torch.no_grad():\n"
    )
    steps = steps_by_code(tmp_path, {"train.py": source}, "--select", "BN102")
    assert steps == {
        ("BN102", 14): [
            (16, 9, "`model.eval()` puts `model` in eval mode"),
            (10, 5, "the loop comes back to this training step with no `model.train()`"),
        ]
    }


def test_bn103_names_the_train_call_or_the_construction(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"export.py": EXPORT}, "--select", "BN103")
    assert steps == {
        ("BN103", 14): [
            (9, 9, "`model.train()`: `model` is in training mode from here"),
            (8, 5, "the loop ends with `model` still in training mode"),
        ],
        ("BN103", 19): [
            (
                18,
                11,
                "constructed with `torchvision.models.resnet50(...)`: `net` is in training "
                "mode from here",
            )
        ],
    }


def test_bn104_names_where_the_parameters_were_frozen(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"fit.py": FROZEN_BACKBONE}, "--select", "BN104")
    assert steps == {
        ("BN104", 21): [(10, 9, "`self.backbone`'s parameters are frozen here")],
    }


# -- structure ---------------------------------------------------------------------------


def test_structure_findings_name_the_layer_on_the_other_side(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"model.py": STRUCTURE}, "--select", "BN2")
    assert steps == {
        ("BN203", 8): [
            (
                9,
                19,
                "`Head.bn` takes the dropout's output in `forward` and keeps running "
                "statistics of its training-time variance",
            )
        ],
        ("BN202", 10): [
            (
                11,
                23,
                "`Head.out_bn` takes its output in `forward` and subtracts each channel's "
                "mean, the bias with it",
            )
        ],
        # Anchored on the norm's call in `forward`: the layer, the norm's constructor and
        # the `return` (a line of its own here) are the steps.
        ("BN201", 16): [
            (10, 19, "`Head.fc` computes the output scores"),
            (11, 23, "`Head.out_bn` is constructed here"),
            (17, 9, "`forward` returns the normalized scores"),
        ],
        ("BN202", 20): [
            (
                20,
                44,
                "`nn.BatchNorm2d(16)` takes its output next in the Sequential and subtracts "
                "each channel's mean, the bias with it",
            )
        ],
        ("BN204", 20): [
            (
                20,
                26,
                "`nn.Linear(8, 16)` produces (batch, features) output, which feeds the norm "
                "next in the Sequential",
            )
        ],
    }


def test_bn201_on_a_returned_norm_call_does_not_repeat_its_own_line(tmp_path: Path) -> None:
    source = STRUCTURE.replace(
        "        x = self.out_bn(x)\n        return x\n", "        return self.out_bn(x)\n"
    )
    steps = steps_by_code(tmp_path, {"model.py": source}, "--select", "BN201")
    assert steps == {
        ("BN201", 16): [
            (10, 19, "`Head.fc` computes the output scores"),
            (11, 23, "`Head.out_bn` is constructed here"),
        ]
    }


def test_bn204_width_mismatch_names_the_layer_and_its_width(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        import torch.nn as nn

        block = nn.Sequential(
            nn.Conv2d(3, 32, 3, bias=False),
            nn.BatchNorm2d(64),
        )
        """
    )
    steps = steps_by_code(tmp_path, {"block.py": source}, "--select", "BN204")
    assert steps == {
        ("BN204", 5): [
            (
                4,
                5,
                "`nn.Conv2d(3, 32, 3, bias=False)` produces 32 features, which feed the "
                "norm next in the Sequential",
            )
        ]
    }


# -- batch sizes -------------------------------------------------------------------------


def test_batch_findings_say_where_the_batch_size_is_written(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"train.py": BATCH}, "--select", "BN301,BN303")
    assert steps == {
        # Anchored at `args.batch_size` in the DataLoader: the argparse default, the model.
        ("BN301", 16): [
            (9, 55, "the batch size is the default of `--batch-size`, 4"),
            (15, 17, "`model`, which has BatchNorm, is trained here"),
        ],
        # Anchored at `DDP(model)`: the argparse default, the loader that uses it.
        ("BN303", 17): [
            (9, 55, "the batch size is the default of `--batch-size`, 4"),
            (16, 20, "`train_loader` gives each device batches of 4"),
        ],
    }


def test_a_batch_size_from_a_config_file_points_at_the_load(tmp_path: Path) -> None:
    files = {"train.py": CONFIG_BATCH, "config.yaml": "train:\n  batch_size: 2\n"}
    steps = steps_by_code(tmp_path, files, "--select", "BN301")
    # The file's own line is not a node of the script: the step is the load that reads it.
    assert steps == {
        ("BN301", 12): [
            (7, 11, "the batch size is `train.batch_size` in config.yaml, 2, read here"),
            (11, 13, "`model`, which has BatchNorm, is trained here"),
        ]
    }


def test_a_split_total_points_at_the_total_and_the_loader(tmp_path: Path) -> None:
    steps = steps_by_code(tmp_path, {"ddp.py": SPLIT_BATCH}, "--select", "BN303")
    assert steps == {
        ("BN303", 14): [
            (7, 15, "the total batch size is written here"),
            (
                13,
                14,
                "`loader` gives each device `TOTAL_BATCH // dist.get_world_size()`, at most 8",
            ),
        ]
    }


SPREAD_BATCH = """\
import argparse

import torch
import torchvision
from torch.utils.data import DataLoader


def train_model(train_set, batch_size: int = 1):
    model = torchvision.models.resnet50()
    loader_args = dict(batch_size=batch_size, num_workers=4)
    train_loader = DataLoader(train_set, shuffle=True, **loader_args)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for images, labels in train_loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=2)
    args = parser.parse_args()
    train_model(None, batch_size=args.batch_size)
"""


def test_a_finding_at_the_written_value_points_back_at_the_loader(tmp_path: Path) -> None:
    # Anchored at the argparse default (where the value is written): the loader that
    # trains with it is a step, and the default is not repeated as one.
    steps = steps_by_code(tmp_path, {"train.py": SPREAD_BATCH}, "--select", "BN301")
    assert steps == {
        ("BN301", 21): [
            (11, 20, "`train_loader` trains with batches of 2"),
            (12, 17, "`model`, which has BatchNorm, is trained here"),
        ]
    }


def test_a_literal_batch_size_in_place_has_no_step_of_its_own(tmp_path: Path) -> None:
    source = BATCH.replace("batch_size=args.batch_size", "batch_size=2")
    steps = steps_by_code(tmp_path, {"train.py": source}, "--select", "BN301")
    assert steps == {("BN301", 16): [(15, 17, "`model`, which has BatchNorm, is trained here")]}


# -- formats -----------------------------------------------------------------------------


def test_text_output_numbers_the_steps_under_the_finding(tmp_path: Path) -> None:
    out = check(tmp_path, {"train.py": BATCH}, "--select", "BN303", "--output-format", "text")
    notes = [line.strip() for line in out.splitlines() if "= note:" in line]
    assert notes == [
        "= note: 1. train.py:9:55: the batch size is the default of `--batch-size`, 4",
        "= note: 2. train.py:16:20: `train_loader` gives each device batches of 4",
    ]
    # The notes follow the finding's own code frame and help line.
    assert out.index("train.py:17:11: BN303") < out.index("= help:") < out.index("= note: 1.")


def test_sarif_code_flows_of_real_rules_validate(tmp_path: Path) -> None:
    files = {"model.py": STRUCTURE, "train.py": BATCH}
    document = json.loads(check(tmp_path, files, "--output-format", "sarif"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    results: list[dict[str, Any]] = document["runs"][0]["results"]
    flows = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): [
            (
                item["location"]["physicalLocation"]["region"]["startLine"],
                item["location"]["message"]["text"],
            )
            for item in r["codeFlows"][0]["threadFlows"][0]["locations"]
        ]
        for r in results
        if "codeFlows" in r
    }
    # The flow is the steps, then the finding itself.
    assert flows[("BN201", 16)][:3] == [
        (10, "`Head.fc` computes the output scores"),
        (11, "`Head.out_bn` is constructed here"),
        (17, "`forward` returns the normalized scores"),
    ]
    assert flows[("BN201", 16)][3][0] == 16
    assert [row for row, _ in flows[("BN303", 17)]] == [9, 16, 17]
    assert {code for code, _ in flows} >= {"BN201", "BN202", "BN203", "BN204", "BN301", "BN303"}


# -- a step that is not of the file's tree -----------------------------------------------


class _ForeignStep(Rule):
    """A test rule: explains `predict(...)` with a node of another tree and one of its own."""

    code = "BN998"
    name = "foreign-step"
    severity = Severity.WARNING
    message = "`predict` is called"
    hint = ""

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "predict":
            elsewhere = cst.parse_expression("predict(model)")
            self.report(node, related=[(elsewhere, "not here"), (node.func, "the name")])


@pytest.fixture
def foreign_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._REGISTRY, _ForeignStep.code, _ForeignStep)


def test_a_step_from_another_tree_is_left_out_not_raised(foreign_rule: None) -> None:
    (finding,) = lint("predict(model)\n", ["BN998"])
    assert [(step.span.start.row, step.message) for step in finding.related] == [(1, "the name")]
