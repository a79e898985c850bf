"""`contains(value, kind)`: one answer for every family, over a table of model constructors.

Each constructor is asked about through the entry point of each family that needs the
answer: the mode rules (BN1xx, `ctx.models`), the batch and numerics rules (BN3xx, BN4xx,
`ctx.training`) and the project index (`contents.contains` on the reference). They must
agree; a few rows are also linted end to end, where BN101's message, BN301 and BN402 must
tell the same story.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from bnlint.analysis.contents import Built, built_by, contains, factory_contains
from bnlint.analysis.context import FileContext
from bnlint.analysis.project import ProjectIndex, index_source
from bnlint.analysis.torch_api import (
    ATTENTION,
    BATCH_NORM,
    DROPOUT,
    NORMALIZATION,
    RECURRENT,
)
from bnlint.analysis.tri import Tri
from bnlint.config import FileSettings
from bnlint.runner import lint_bytes
from bnlint.source import SourceText

YES, NO, UNKNOWN = Tri.YES, Tri.NO, Tri.UNKNOWN

PRELUDE = """\
from collections import OrderedDict

import timm
import torch
import torch.nn as nn
import torchvision
from torchvision.models import resnet18
from torchvision.models.segmentation import deeplabv3_resnet50
from transformers import AutoModel

from nets import ProjectNet


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)


class Wrapped(Net):
    pass


class GN(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.GroupNorm(2, 8)


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.BatchNorm2d(cout))


class WithHelper(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = conv_bn(3, 8)


def build():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())


def load_model(path):
    model = Net()
    model.load_state_dict(torch.load(path))
    return model


class Chooser(nn.Module):
    def __init__(self, bn):
        super().__init__()
        norm = nn.BatchNorm2d if bn else nn.GroupNorm
        self.norm = norm(8)
"""

# Another file of the project, seen only through the project index.
OTHER_FILE = """\
import torch.nn as nn


class ProjectNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
"""

# (constructor expression, whether the model holds BatchNorm)
CONSTRUCTORS = [
    ("torchvision.models.resnet50()", YES),
    ("resnet18(weights=None)", YES),
    ("torchvision.models.segmentation.deeplabv3_resnet50()", YES),
    ("deeplabv3_resnet50(num_classes=3)", YES),
    ("torchvision.models.segmentation.fcn_resnet101()", YES),
    ("torchvision.models.segmentation.lraspp_mobilenet_v3_large()", YES),
    ("torchvision.models.detection.fasterrcnn_resnet50_fpn_v2()", YES),
    ("torchvision.models.detection.ssdlite320_mobilenet_v3_large()", YES),
    # BatchNorm or frozen BatchNorm, depending on the backbone weights it is given.
    ("torchvision.models.detection.fasterrcnn_resnet50_fpn()", UNKNOWN),
    ("torchvision.models.efficientnet_b0()", YES),
    ("torchvision.models.mobilenet_v3_small()", YES),
    ("torchvision.models.vgg16_bn()", YES),
    ("torchvision.models.vgg16()", NO),
    ("torchvision.models.vit_b_16()", NO),
    ("torchvision.models.convnext_tiny()", NO),
    ("torchvision.models.video.r3d_18()", YES),
    ("torchvision.models.get_model('resnet50')", YES),
    ("torch.hub.load('pytorch/vision', 'resnet50')", YES),
    ("torch.hub.load('facebookresearch/dino:main', 'dino_vits16')", UNKNOWN),
    ("timm.create_model('resnet50', pretrained=True)", YES),
    ("timm.create_model('efficientnet_b3', num_classes=10)", YES),
    ("timm.create_model('vit_base_patch16_224')", NO),
    ("timm.create_model('resnetv2_50x1_bit')", UNKNOWN),
    ("nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())", YES),
    ("nn.Sequential(nn.Linear(4, 4), nn.ReLU())", NO),
    ("nn.Sequential(OrderedDict([('conv', nn.Conv2d(3, 8, 3)), ('bn', nn.BatchNorm2d(8))]))", YES),
    ("nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])", NO),
    ("Net()", YES),
    ("Wrapped()", YES),
    ("WithHelper()", YES),
    ("GN()", NO),
    ("Chooser(bn=True)", UNKNOWN),
    ("ProjectNet()", YES),
    ("build()", YES),
    ("load_model('best.pt')", YES),
    ("AutoModel.from_pretrained('bert-base-uncased')", UNKNOWN),
]


def _context(constructor: str) -> FileContext:
    source = f"{PRELUDE}\n\nmodel = {constructor}\nmodel.train()\n"
    project = index_source(OTHER_FILE, "nets.py")
    return FileContext(
        "train.py", SourceText(source), cst.parse_module(source), FileSettings(frozenset()), project
    )


def _families(constructor: str) -> dict[str, Tri]:
    ctx = _context(constructor)
    name = cst.Name("model")
    facts = ctx.models.model_for(name, at=ctx.module)
    answers = {
        "BN1xx (ctx.models)": UNKNOWN if facts is None else facts.batch_norm,
        "BN3xx/BN4xx (ctx.training)": Tri.of(ctx.training.has_batch_norm(name, [ctx.module])),
    }
    value = cst.parse_expression(constructor)
    assert isinstance(value, cst.Call)
    built = built_by(value, ctx.names)
    assert built is not None
    answers["project index (contents)"] = contains(built, BATCH_NORM, ctx.project_index)
    return answers


@pytest.mark.parametrize(("constructor", "expected"), CONSTRUCTORS)
def test_every_family_gets_the_same_answer(constructor: str, expected: Tri) -> None:
    answers = _families(constructor)
    assert answers == dict.fromkeys(answers, expected), constructor


def test_the_table_covers_every_kind_of_constructor() -> None:
    assert len(CONSTRUCTORS) >= 25
    assert {expected for _, expected in CONSTRUCTORS} == {YES, NO, UNKNOWN}


def _codes(source: str) -> dict[str, list[str]]:
    enabled = frozenset({"BN101", "BN301", "BN402"})
    result = lint_bytes(source.encode(), "train.py", FileSettings(enabled=enabled))
    found: dict[str, list[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


SCRIPT = """\
import torch
import torchvision
from torch.utils.data import DataLoader


def main(train_set, images):
    model = {constructor}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_loader = DataLoader(train_set, batch_size=2, shuffle=True)
    model.half()
    for x, y in train_loader:
        loss = model(x).sum()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        preds = model(images)
    return preds
"""


@pytest.mark.parametrize(
    ("constructor", "has_batch_norm"),
    [
        ("torchvision.models.resnet50()", True),
        ("torchvision.models.segmentation.deeplabv3_resnet50()", True),
        ("torchvision.models.detection.ssdlite320_mobilenet_v3_large()", True),
        ("torchvision.models.vit_b_16()", False),
    ],
)
def test_the_families_tell_one_story_end_to_end(constructor: str, has_batch_norm: bool) -> None:
    """The issue's case: deeplabv3 at batch 2 was a BatchNorm model for BN101, not for
    BN301/BN402, while `resnet50()` fired both."""
    found = _codes(SCRIPT.format(constructor=constructor))
    assert ("BN301" in found) is has_batch_norm
    assert ("BN402" in found) is has_batch_norm
    assert "BN101" in found  # ViT still has Dropout: its mode matters either way
    says_batch_norm = "BatchNorm normalizes with each batch's own statistics" in found["BN101"][0]
    assert says_batch_norm is has_batch_norm


# -- the kinds ------------------------------------------------------------------------------


def _index(source: str) -> ProjectIndex:
    return index_source(textwrap.dedent(source), "models.py")


def test_kinds_of_layers_and_classes() -> None:
    index = _index(
        """
        import torch.nn as nn

        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(8, 8)
                self.norm = nn.LayerNorm(8)
                self.drop = nn.Dropout(0.1)

        class Attn(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = nn.MultiheadAttention(8, 2)
        """
    )
    assert contains("Encoder", RECURRENT, index) is YES
    assert contains("Encoder", NORMALIZATION, index) is YES
    assert contains("Encoder", BATCH_NORM, index) is NO
    assert contains("Encoder", DROPOUT, index) is YES
    assert contains("Encoder", ATTENTION, index) is NO
    assert contains("Attn", ATTENTION, index) is YES
    assert contains("Attn", RECURRENT, index) is NO
    assert contains("torch.nn.SyncBatchNorm", BATCH_NORM, index) is YES
    assert contains("torchvision.ops.FrozenBatchNorm2d", BATCH_NORM, index) is NO
    assert contains("torchvision.ops.FrozenBatchNorm2d", NORMALIZATION, index) is YES


def test_a_class_built_from_an_unindexed_import_is_unknown() -> None:
    index = _index(
        """
        import torch.nn as nn
        from somewhere import Backbone

        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = Backbone()
        """
    )
    assert contains("Model", BATCH_NORM, index) is UNKNOWN


def test_helpers_count_where_they_are_called_not_where_they_are_passed() -> None:
    index = _index(
        """
        import torch.nn as nn

        def init_weights(m):
            if isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)

        def make_head():
            return nn.Linear(8, 2)

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = make_head()
                self.apply(init_weights)
        """
    )
    assert contains("Head", BATCH_NORM, index) is NO
    # Only helpers the file calls are summarised, and only those that refer to something.
    assert set(index.helpers) == set()


def test_factory_answers_need_the_architecture() -> None:
    assert factory_contains("timm.create_model", BATCH_NORM) is UNKNOWN
    assert factory_contains("timm.create_model", BATCH_NORM, "resnet50.a1_in1k") is YES
    assert factory_contains("timm.create_model", DROPOUT, "resnet50") is UNKNOWN
    assert factory_contains("torchvision.models.quantization.resnet18", BATCH_NORM) is YES
    assert factory_contains("torchvision.models.swin_t", NORMALIZATION) is YES
    assert factory_contains("mypackage.resnet50", BATCH_NORM) is None


def test_sequential_parts() -> None:
    index = ProjectIndex()
    unknown_part = Built("torch.nn.Sequential", parts=(Built("torch.nn.Linear"), None))
    assert contains(unknown_part, BATCH_NORM, index) is UNKNOWN
    with_bn = Built("torch.nn.Sequential", parts=(None, Built("torch.nn.BatchNorm1d")))
    assert contains(with_bn, BATCH_NORM, index) is YES
    assert contains(Built("torch.nn.Sequential", parts=()), BATCH_NORM, index) is NO


def test_a_functions_own_import_does_not_rename_the_modules_layers() -> None:
    index = _index(
        """
        import torch.nn as nn

        def export_to_keras():
            import keras.layers as nn
            return nn.Dense(4)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm2d(8)
        """
    )
    assert index.contains("Net", BATCH_NORM) is Tri.YES
    assert index.attribute_class("Net", "bn") == "torch.nn.BatchNorm2d"
