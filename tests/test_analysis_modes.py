"""Unit tests of the mode analysis: project index, model facts, intent and the mode dataflow."""

from __future__ import annotations

import textwrap

import libcst as cst

from bnlint.analysis.context import FileContext
from bnlint.analysis.intent import is_eval_name
from bnlint.analysis.modes import Mode
from bnlint.analysis.project import BATCH_NORM, DROPOUT, Tri, index_source
from bnlint.config import FileSettings
from bnlint.source import decode

NETS = """
import torch
import torch.nn as nn
from .blocks import Block


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.bn = nn.BatchNorm2d(8)


class Residual(Net):
    pass


class Wrapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.drop = nn.Dropout(0.1)
"""


def test_class_contents_are_known_through_nesting_and_bases() -> None:
    index = index_source(NETS, "nets.py")
    assert index.contains("Encoder", BATCH_NORM) is Tri.NO
    assert index.contains("Net", BATCH_NORM) is Tri.YES
    assert index.contains("Residual", BATCH_NORM) is Tri.YES
    assert index.contains("Wrapped", DROPOUT) is Tri.YES
    # An imported class this run did not index may hold anything.
    assert index.contains("Wrapped", BATCH_NORM) is Tri.UNKNOWN
    assert index.attribute_class("Net", "encoder") == "Encoder"


def test_torchvision_factories_are_known_by_family() -> None:
    index = index_source("", "empty.py")
    assert index.contains("torchvision.models.resnet50", BATCH_NORM) is Tri.YES
    assert index.contains("torchvision.models.vit_b_16", BATCH_NORM) is Tri.NO
    assert index.contains("timm.create_model", BATCH_NORM) is Tri.UNKNOWN


def test_function_summaries_and_call_sites() -> None:
    source = """
def validate(model, loader):
    model.eval()

def main(net):
    net.train()
    validate(net, None)
    validate(net, None)
"""
    index = index_source(source, "train.py")
    summary = index.function("validate")
    assert summary is not None
    assert summary.sets_mode == {"model": "eval"}
    assert [site.arg_modes for site in index.sites_for("validate", "train.py")] == [
        {0: "train"},
        {0: "eval"},
    ]


def test_eval_names() -> None:
    assert is_eval_name("validate_epoch")
    assert is_eval_name("run_inference")
    assert not is_eval_name("train_and_evaluate")
    assert not is_eval_name("test_forward_shape")  # a pytest test, not an evaluation


def _facts_at_marker(source: str, key: str) -> tuple[set[Mode], set[bool]]:
    """Modes of `key` at the call `marker()` in `source`."""
    module = cst.parse_module(source)
    ctx = FileContext("example.py", decode(source.encode()), module, FileSettings(frozenset()))
    found: list[tuple[set[Mode], set[bool]]] = []

    class _Walk(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            ctx.ancestors.append(node)
            func = node.func if isinstance(node, cst.Call) else None
            if isinstance(func, cst.Name) and func.value == "marker":
                facts = ctx.modes.facts(key, node)
                found.append(({f.mode for f in facts}, {f.loop is not None for f in facts}))
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            ctx.ancestors.pop()

    module.visit(_Walk())
    assert len(found) == 1
    return found[0]


def test_construction_is_training_and_chained_eval_is_eval() -> None:
    source = NETS + "net = Net()\nmarker()\nother = Net().cuda().eval()\n"
    assert _facts_at_marker(source, "net")[0] == {Mode.TRAIN}
    source = NETS + "net = Net().to('cuda').eval()\nmarker()\n"
    assert _facts_at_marker(source, "net")[0] == {Mode.EVAL}


def test_train_false_and_branches() -> None:
    source = NETS + "net = Net()\nnet.train(False)\nmarker()\n"
    assert _facts_at_marker(source, "net")[0] == {Mode.EVAL}
    source = NETS + "net = Net()\nif flag:\n    net.eval()\nmarker()\n"
    assert _facts_at_marker(source, "net")[0] == {Mode.EVAL, Mode.TRAIN}


def test_eval_at_the_end_of_a_loop_reaches_its_start_through_the_back_edge() -> None:
    source = NETS + (
        "net = Net()\nnet.train()\nfor epoch in range(3):\n    marker()\n    net.eval()\n"
    )
    modes, carried = _facts_at_marker(source, "net")
    assert modes == {Mode.TRAIN, Mode.EVAL}
    assert carried == {False, True}


def test_wrapper_module_eval_sets_the_wrapper() -> None:
    source = NETS + (
        "net = Net()\nddp = torch.nn.parallel.DistributedDataParallel(net)\n"
        "ddp.module.eval()\nmarker()\n"
    )
    assert _facts_at_marker(source, "ddp")[0] == {Mode.EVAL}
    assert _facts_at_marker(source, "net")[0] == {Mode.EVAL}


def test_helper_summaries_set_the_argument_mode() -> None:
    source = NETS + ("def freeze(m):\n    m.eval()\n\nnet = Net()\nfreeze(net)\nmarker()\n")
    assert _facts_at_marker(source, "net")[0] == {Mode.EVAL}


def test_unknown_function_receiving_the_model_makes_the_mode_unknown() -> None:
    source = NETS + "from helpers import prepare\nnet = Net()\nprepare(net)\nmarker()\n"
    assert _facts_at_marker(source, "net")[0] == {Mode.UNKNOWN}


def test_from_pretrained_starts_in_eval() -> None:
    source = "from transformers import AutoModel\nm = AutoModel.from_pretrained('x')\nmarker()\n"
    assert _facts_at_marker(source, "m")[0] == {Mode.EVAL}


def test_class_graph_with_many_same_named_classes_is_walked_once_per_class() -> None:
    # Large projects define one class name many times (transformers has hundreds of
    # `Attention` classes); each definition refers to the others' names. Without
    # memoised answers the recursive walk is exponential in the depth of the chain
    # (here 3**10 visits); with them, each definition is looked at once.
    from bnlint.analysis.project import BATCH_NORM, ClassFacts, ProjectIndex, Tri

    index = ProjectIndex()
    levels, copies = 10, 3
    for level in range(levels):
        for copy in range(copies):
            refs = {f"Block{level + 1}"} if level + 1 < levels else set()
            index.classes.setdefault(f"Block{level}", []).append(
                ClassFacts(f"Block{level}", f"m{copy}.py", ("torch.nn.Module",), frozenset(refs))
            )
    visits = 0
    walk = index._class_contains

    def counted(*args: object) -> Tri:
        nonlocal visits
        visits += 1
        return walk(*args)  # type: ignore[arg-type]

    index._class_contains = counted  # type: ignore[method-assign]
    assert index.contains("Block0", BATCH_NORM) is Tri.NO
    assert visits == levels * copies
    assert index.is_module_class("Block0") is Tri.YES


def test_memoised_answers_in_cycles() -> None:
    # A refers to B and B to A; B also builds BatchNorm. Asking about A first must not
    # leave a wrong answer for B behind.
    from bnlint.analysis.project import BATCH_NORM, ClassFacts, ProjectIndex, Tri

    index = ProjectIndex()
    index.classes["A"] = [ClassFacts("A", "a.py", ("torch.nn.Module",), frozenset({"B"}))]
    index.classes["B"] = [
        ClassFacts("B", "b.py", ("torch.nn.Module",), frozenset({"A", "torch.nn.BatchNorm2d"}))
    ]
    assert index.contains("A", BATCH_NORM) is Tri.YES
    assert index.contains("B", BATCH_NORM) is Tri.YES
    index.classes["C"] = [ClassFacts("C", "c.py", ("torch.nn.Module",), frozenset({"D"}))]
    index.classes["D"] = [ClassFacts("D", "d.py", ("torch.nn.Module",), frozenset({"C"}))]
    assert index.contains("C", BATCH_NORM) is Tri.NO
    assert index.contains("D", BATCH_NORM) is Tri.NO


def test_an_imported_class_names_only_classes_under_its_package() -> None:
    # The project's own `Model` is an nn.Module with BatchNorm; Keras's `Model` is not it.
    index = index_source(
        "import torch.nn as nn\nclass Model(nn.Module):\n    bn = nn.BatchNorm2d(3)\n",
        "project/nets.py",
    )
    index.merge(
        index_source(
            "from keras import models\nclass Repeat(models.Model):\n    pass\n",
            "project/keras_test.py",
        )
    )
    index.merge(index_source("from nets import Model\nclass Head(Model):\n    pass\n", "head.py"))
    assert index.is_module_class("keras.models.Model") is Tri.UNKNOWN
    assert index.is_module_class("Repeat") is Tri.UNKNOWN
    assert index.is_module_class("nets.Model") is Tri.YES
    assert index.is_module_class("Head") is Tri.YES
    assert index.contains("Head", BATCH_NORM) is Tri.YES
    # Relative imports and local names still match by name.
    assert index.is_module_class(".nets.Model") is Tri.YES


def test_constructions_of_classes_that_are_not_modules_carry_no_mode() -> None:
    source = """
import torch.nn as nn
from keras import models

class Repeat(models.Model):
    def call(self, x):
        return x

class Net(nn.Module):
    pass

def check(model, x):
    return model(x)

def test_keras():
    model = Repeat()
    check(model, 1)

def test_torch():
    net = Net().to("cpu")
    check(net, 1)
"""
    index = index_source(source, "export_test.py")
    assert [site.arg_modes for site in index.sites_for("check", "export_test.py")] == [
        {},
        {0: "train"},
    ]


# -- explanation paths ----------------------------------------------------------------------


def _related(code: str, source: str) -> list[tuple[int, str]]:
    from bnlint.runner import lint_bytes

    text = textwrap.dedent(source)
    result = lint_bytes(text.encode(), "x.py", FileSettings(enabled=frozenset({code})))
    (finding,) = result.findings
    return [(step.span.start.row, step.message) for step in finding.related]


def test_bn101_explains_where_training_mode_comes_from() -> None:
    related = _related(
        "BN101",
        """
        import torch
        import torchvision

        def main(images):
            model = torchvision.models.resnet50()
            model.train()
            with torch.no_grad():
                return model(images)
        """,
    )
    assert related == [
        (7, "`model.train()`: `model` is in training mode from here"),
        (8, "`model` is then run under `torch.no_grad()`"),
    ]


def test_bn102_explains_the_eval_and_the_loop_that_carries_it() -> None:
    related = _related(
        "BN102",
        """
        import torch

        def fit(model, train_loader, val_loader, optimizer):
            model.train()
            for epoch in range(10):
                for x, y in train_loader:
                    model(x).sum().backward()
                    optimizer.step()
                model.eval()
                with torch.no_grad():
                    for x, y in val_loader:
                        model(x)
        """,
    )
    assert related == [
        (10, "`model.eval()` puts `model` in eval mode"),
        (6, "the loop comes back to this training step with no `model.train()`"),
    ]


def test_calls_no_project_function_can_receive_are_not_call_sites() -> None:
    index = index_source(
        textwrap.dedent(
            """
            import torch
            from torch.onnx import export as onnx_export

            def main(model):
                model.eval()
                torch.onnx.export(model, torch.zeros(1), "m.onnx")
                onnx_export(model, torch.zeros(1), "m.onnx")
                print(len(model))
                report(model)

            def len(items):
                return 0
            """
        ),
        "export.py",
    )
    # `torch.onnx.export` and `print` are not the project's; `len` is rebound by the file.
    assert set(index.call_sites) == {"len", "report"}
    assert index.call_sites["report"][0].arg_modes == {0: "eval"}
