"""Batch-size resolution, config files, and the training-setup facts BN3xx/BN402 rely on."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from bnlint.analysis.batch_size import Value
from bnlint.analysis.config_files import parse_plain_yaml
from bnlint.analysis.context import FileContext
from bnlint.analysis.loaders import Role, name_role
from bnlint.config import FileSettings
from bnlint.source import decode

from .conftest import codes, lint


def _context(source: str, filename: str = "train.py") -> FileContext:
    return FileContext(
        filename, decode(source.encode()), cst.parse_module(source), FileSettings(frozenset())
    )


def _resolve_last(source: str, filename: str = "train.py") -> Value | None:
    """Resolve the value of the file's last `probe = <expr>` line, in its own scope."""
    ctx = _context(source, filename)
    index = ctx.batch_sizes.index
    for scope, bindings in index.scopes.items():
        entries = bindings.names.get("probe")
        if entries:
            value = entries[-1].value
            assert value is not None
            return ctx.batch_sizes.resolve(value, index.scopes_of(index.scopes[scope]))
    raise AssertionError("no `probe = ...` in the source")


def test_literal_constant_and_local_name() -> None:
    assert _resolve_last("probe = 4\n") == Value(4, "")
    assert _resolve_last("BS = 4\nprobe = BS\n") == Value(4, "`BS`")
    assert _resolve_last("BS = 4\ndef f():\n    bs = BS * 2\n    probe = bs\n") == Value(8, "`BS`")


def test_name_bound_twice_or_a_parameter_is_unknown() -> None:
    assert _resolve_last("BS = 4\nif gpu:\n    BS = 64\nprobe = BS\n") is None
    assert _resolve_last("def f(bs=4):\n    probe = bs\n") is None
    assert _resolve_last("BS = 4\ndef f():\n    global BS\n    BS = 8\nprobe = BS\n") is None


def test_argparse_default_through_long_short_and_dest() -> None:
    base = "import argparse\np = argparse.ArgumentParser()\n"
    long = (
        base
        + 'p.add_argument("-b", "--batch-size", type=int, default=2)\nargs = p.parse_args()\nprobe = args.batch_size\n'
    )
    assert _resolve_last(long) == Value(2, "the default of `--batch-size`")
    dest = (
        base
        + 'p.add_argument("--bs", dest="batch", default=3)\nargs = p.parse_args()\nprobe = args.batch\n'
    )
    assert _resolve_last(dest) == Value(3, "the default of `--bs`")
    in_main = (
        base
        + 'p.add_argument("--batch_size", default=5)\ndef main(args):\n    probe = args.batch_size\nmain(p.parse_args())\n'
    )
    assert _resolve_last(in_main) == Value(5, "the default of `--batch_size`")


def test_argparse_through_a_parse_args_function() -> None:
    source = (
        "import argparse\ndef parse_args():\n    p = argparse.ArgumentParser()\n"
        '    p.add_argument("--batch-size", default=4)\n    return p.parse_args()\n'
        "def main():\n    args = parse_args()\n    probe = args.batch_size\n"
    )
    assert _resolve_last(source) == Value(4, "the default of `--batch-size`")


def test_argparse_value_rewritten_or_set_elsewhere_is_unknown() -> None:
    base = 'import argparse\np = argparse.ArgumentParser()\np.add_argument("--batch-size", default=2)\n'
    assert (
        _resolve_last(
            base + "p.set_defaults(batch_size=64)\nargs = p.parse_args()\nprobe = args.batch_size\n"
        )
        is None
    )
    assert (
        _resolve_last(
            base + "args = p.parse_args()\nargs.batch_size *= 4\nprobe = args.batch_size\n"
        )
        is None
    )
    assert (
        _resolve_last(
            base
            + 'p.add_argument("--batch-size", default=3)\nargs = p.parse_args()\nprobe = args.batch_size\n'
        )
        is None
    )


def test_dict_dataclass_and_class_configs() -> None:
    assert _resolve_last('cfg = {"train": {"bs": 6}}\nprobe = cfg["train"]["bs"]\n') == Value(
        6, '`cfg["train"]["bs"]`'
    )
    assert _resolve_last('cfg = dict(bs=6)\ncfg.update(bs=32)\nprobe = cfg["bs"]\n') is None
    dataclass = "from dataclasses import dataclass\n@dataclass\nclass C:\n    bs: int = 4\n"
    assert _resolve_last(dataclass + "c = C()\nprobe = c.bs\n") == Value(4, "`C.bs`")
    assert _resolve_last(dataclass + "c = C(bs=2)\nprobe = c.bs\n") == Value(2, "`c.bs`")
    assert _resolve_last(dataclass + "def f(c: C):\n    probe = c.bs\nf(C(bs=64))\n") is None
    assert _resolve_last("class CFG:\n    bs = 3\nprobe = CFG.bs\n") == Value(3, "`CFG.bs`")
    assert _resolve_last("class CFG:\n    bs = 3\nCFG.bs = 16\nprobe = CFG.bs\n") is None


def test_click_and_typer_defaults() -> None:
    click = 'import click\n@click.command()\n@click.option("--batch-size", default=3)\ndef main(batch_size):\n    probe = batch_size\n'
    assert _resolve_last(click) == Value(3, "the default of `--batch-size`")
    typer = "import typer\ndef main(bs: int = typer.Option(2)):\n    probe = bs\n"
    assert _resolve_last(typer) == Value(2, "the default of `--bs`")
    plain = "def main(bs: int = 2):\n    probe = bs\n"
    assert _resolve_last(plain) is None


@pytest.mark.parametrize(
    ("name", "text", "loader"),
    [
        ("config.json", '{"train": {"batch_size": 4}}', "json.load(open('config.json'))"),
        ("config.toml", "[train]\nbatch_size = 4\n", "tomllib.load(open('config.toml', 'rb'))"),
        (
            "config.yaml",
            "train:\n  batch_size: 4  # per GPU\n",
            "yaml.safe_load(open('config.yaml'))",
        ),
    ],
)
def test_config_file_next_to_the_script(tmp_path: Path, name: str, text: str, loader: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    script = tmp_path / "train.py"
    source = f"import json, tomllib, yaml\ncfg = {loader}\nprobe = cfg['train']['batch_size']\n"
    script.write_text(source, encoding="utf-8")
    assert _resolve_last(source, str(script)) == Value(4, f"`train.batch_size` in {name}")


def test_config_file_loaded_in_a_with_block_or_absent(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text("batch_size: 2\n", encoding="utf-8")
    script = tmp_path / "train.py"
    script.write_text("", encoding="utf-8")
    source = "import yaml\nwith open('cfg.yaml') as f:\n    cfg = yaml.safe_load(f)\nprobe = cfg['batch_size']\n"
    assert _resolve_last(source, str(script)) == Value(2, "`batch_size` in cfg.yaml")
    absent = "import yaml\ncfg = yaml.safe_load(open('missing.yaml'))\nprobe = cfg['batch_size']\n"
    assert _resolve_last(absent, str(script)) is None


def test_plain_yaml_reader_refuses_what_it_cannot_read() -> None:
    assert parse_plain_yaml("a: 1\nb:\n  c: 2\n  d: x\ne: 3\n") == {
        "a": 1,
        "b": {"c": 2, "d": "x"},
        "e": 3,
    }
    assert parse_plain_yaml("base: &base\n  bs: 2\n") is None
    assert parse_plain_yaml("text: |\n  many lines\n") is None
    assert parse_plain_yaml("items:\n  - 1\n  - 2\nbs: 4\n") == {"items": None, "bs": 4}


def test_accumulation_identifier() -> None:
    assert (
        _context("loss = loss / args.grad_accum_steps\n").batch_sizes.accumulation
        == "grad_accum_steps"
    )
    assert (
        _context("trainer = Trainer(accumulate_grad_batches=8)\n").batch_sizes.accumulation
        == "accumulate_grad_batches"
    )
    assert _context("accumulated_loss = 0.0\n").batch_sizes.accumulation is None


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("train_loader", Role.TRAIN),
        ("trainloader", Role.TRAIN),
        ("loader_train", Role.TRAIN),
        ("trainval_dl", Role.TRAIN),
        ("val_loader", Role.EVAL),
        ("testLoader", Role.EVAL),
        ("predict_dataloader", Role.EVAL),
        ("loader", None),
        ("constraint_loader", None),
        ("trainer", None),
    ],
)
def test_name_role(name: str, role: Role | None) -> None:
    assert name_role(name) is role


def test_batch_norm_knowledge() -> None:
    source = (
        "import timm, torchvision\nimport torch.nn as nn\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bn = nn.BatchNorm2d(8)\n"
        "class GN(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.n = nn.GroupNorm(2, 8)\n"
        "class Wrapped(Net):\n    pass\n"
        "a = torchvision.models.resnet50()\nb = timm.create_model('resnet50d')\nc = timm.create_model('resnetv2_50x1_bit')\n"
        "d = torchvision.models.vit_b_16()\ne = Net().cuda()\nf = GN()\ng = Wrapped()\n"
    )
    ctx = _context(source)
    answers = {
        name: ctx.training.has_batch_norm(cst.Name(name), [ctx.module]) for name in "abcdefg"
    }
    assert answers == {
        "a": True,
        "b": True,
        "c": None,
        "d": False,
        "e": True,
        "f": False,
        "g": True,
    }


def test_trained_models_come_from_optimizers_and_train_calls() -> None:
    source = (
        "import torch, torchvision\nmodel = torchvision.models.resnet18()\nhead = make_head()\n"
        "opt = torch.optim.SGD([{'params': model.parameters()}, {'params': head.parameters()}], lr=0.1)\n"
    )
    ctx = _context(source)
    assert [(m.name, m.has_batch_norm) for m in ctx.training.trained_models] == [
        ("model", True),
        ("head", None),
    ]
    assert ctx.training.trained_batch_norm_model() is None


def test_config_file_batch_size_reaches_bn301(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("data:\n  batch_size: 2\n", encoding="utf-8")
    source = (
        "import torch, torchvision, yaml\nfrom torch.utils.data import DataLoader\n"
        "cfg = yaml.safe_load(open('config.yaml'))\nmodel = torchvision.models.resnet50()\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "train_loader = DataLoader(train_set, batch_size=cfg['data']['batch_size'])\n"
    )
    script = tmp_path / "train.py"
    script.write_text(source, encoding="utf-8")
    findings = lint(source, select=["BN301"], filename=str(script))
    assert codes(findings) == ["BN301"]
    assert "`data.batch_size` in config.yaml" in findings[0].message
