"""The semantic layer on its own: imports, scopes and bindings, value flow, intent."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from bnlint.analysis.context import FileContext
from bnlint.analysis.intent import is_eval_name, is_training_step
from bnlint.analysis.project import index_source
from bnlint.analysis.semantic.imports import ImportRecord, ImportTable, from_ast, from_cst
from bnlint.analysis.semantic.scopes import SemanticModel, model_key, value_key
from bnlint.analysis.torch_api import is_training_step as is_step_name
from bnlint.analysis.values import unwrap
from bnlint.config import FileSettings
from bnlint.runner import lint_bytes
from bnlint.source import SourceText


def _context(source: str) -> FileContext:
    text = textwrap.dedent(source)
    return FileContext("x.py", SourceText(text), cst.parse_module(text), FileSettings(frozenset()))


def _function(ctx: FileContext, name: str) -> cst.FunctionDef:
    for statement in ctx.module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    raise AssertionError(name)


def _code(nodes: list[cst.BaseExpression]) -> list[str]:
    return [cst.Module([]).code_for_node(node) for node in nodes]


# -- imports: one table for both front ends ------------------------------------------------

IMPORTS = [
    ("import torch", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("import torch.nn as tnn", "tnn.BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("from torch import nn", "nn.BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("from torch.nn import BatchNorm2d as BN", "BN", "torch.nn.BatchNorm2d"),
    ("from torch.nn.modules.batchnorm import BatchNorm2d", "BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("import torch", "torch.nn.modules.batchnorm.BatchNorm2d", "torch.nn.BatchNorm2d"),
    ("from .models import Net", "Net", ".models.Net"),
    ("from .. import layers", "layers.Block", "..layers.Block"),
    ("from torch.nn import *", "BatchNorm2d", None),
    ("import torch", "model.eval", None),
]


@pytest.mark.parametrize(("statement", "name", "expected"), IMPORTS)
def test_libcst_and_ast_imports_resolve_alike(
    statement: str, name: str, expected: str | None
) -> None:
    cst_table, ast_table = ImportTable(), ImportTable()
    node = cst.parse_statement(statement)
    assert isinstance(node, cst.SimpleStatementLine)
    imported = node.body[0]
    assert isinstance(imported, cst.Import | cst.ImportFrom)
    for record in from_cst(imported):
        cst_table.add(record)
    ast_node = ast.parse(statement).body[0]
    assert isinstance(ast_node, ast.Import | ast.ImportFrom)
    assert from_ast(ast_node) == from_cst(imported)
    for record in from_ast(ast_node):
        ast_table.add(record)
    assert cst_table.qualify(name) == ast_table.qualify(name) == expected


def test_an_import_record_binds_what_python_binds() -> None:
    assert ImportRecord("torch.nn").binding() == ("torch", "torch")
    assert ImportRecord("torch.nn", None, "tnn").binding() == ("tnn", "torch.nn")
    assert ImportRecord("..pkg", "mod", None).binding() == ("mod", "..pkg.mod")
    assert ImportTable().resolve("Net") == "Net"


def test_the_project_index_resolves_through_the_same_table() -> None:
    index = index_source("from torch import nn as tnn\nclass Net(tnn.Module): pass\n", "a.py")
    assert index.classes["Net"][0].bases == ("torch.nn.Module",)


# -- scopes and bindings ---------------------------------------------------------------------


def test_bindings_per_scope_and_single_assignments() -> None:
    ctx = _context(
        """
        BATCH = 4

        class Config:
            BATCH = 64

            def size(self):
                return BATCH

        def main(flag):
            n = 2
            for i in range(3):
                pass
            m = 1
            m = 2
        """
    )
    model = ctx.semantic
    assert isinstance(model, SemanticModel)
    main = _function(ctx, "main")
    found = model.lookup("n", [ctx.module, main])
    assert found is not None
    assert [b.kind for b in found[1]] == ["assign"]
    found = model.lookup("m", [ctx.module, main])
    assert found is not None
    assert len(found[1]) == 2
    assert model.lookup("flag", [ctx.module, main]) is not None
    found = model.lookup("i", [ctx.module, main])
    assert found is not None
    assert found[1][0].kind == "other"
    # A method does not see its class body's names: BATCH is the module's.
    config = ctx.module.body[1]
    assert isinstance(config, cst.ClassDef)
    size = config.body.body[1]
    assert isinstance(size, cst.FunctionDef)
    found = model.lookup("BATCH", [ctx.module, config, size])
    assert found is not None
    assert found[0].scope is ctx.module
    assert model.lookup("nowhere", [ctx.module, main]) is None


def test_scope_facts_stay_in_their_scope() -> None:
    ctx = _context(
        """
        net = Net()

        def train(model):
            model.train()
            self.head = Head()
            a, b = Encoder(), Decoder()
            nets["ema"] = Net()
            model(x)
            helper = lambda: other.eval()
        """
    )
    scope = ctx.semantic.scope(_function(ctx, "train"))
    assert set(scope.assignments) == {"self.head", "a", "b", "nets['ema']", "helper"}
    assert scope.module_uses == {"model"}  # `other.eval()` belongs to the lambda
    assert "model" in scope.called
    assert set(ctx.semantic.scope(ctx.module).assignments) == {"net"}


def test_keys_of_objects() -> None:
    assert model_key(cst.parse_expression("ddp.module.to(device)")) == "ddp"
    assert model_key(cst.parse_expression("self.net.cuda()")) == "self.net"
    assert model_key(cst.parse_expression('models["net"]')) == "models['net']"
    assert model_key(cst.parse_expression("nets[0].head")) == "nets[0].head"
    assert model_key(cst.parse_expression("nets[i]")) is None
    assert value_key(cst.parse_expression("f(x).y")) is None


# -- value flow ------------------------------------------------------------------------------

FLOW = """
import copy
import torch
import torchvision
from torch.nn.parallel import DistributedDataParallel as DDP

backbone = torchvision.models.resnet18()


def main(device, flag):
    model = torchvision.models.resnet50()
    model = model.to(device)
    model = DDP(model, device_ids=[0])
    model = torch.compile(model)
    models = {"net": Net(), "ema": copy.deepcopy(model)}
    nets = [Net(), Head()]
    registry = torch.nn.ModuleDict({"enc": Encoder()})
    for m in nets:
        m.train()
    for v in models.values():
        v.eval()
    trainer.net = Net()
    head = backbone
    if flag:
        other = Net()
    else:
        other = Head()
    return model
"""


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("model", ["torchvision.models.resnet50()"]),
        ("models['net']", ["Net()"]),
        ("models['ema']", ["copy.deepcopy(model)"]),
        ("nets[1]", ["Head()"]),
        ("nets[-1]", ["Head()"]),
        ("nets[5]", []),
        ("registry['enc']", ["Encoder()"]),
        ("m", ["Net()", "Head()"]),
        ("v", ["Net()", "copy.deepcopy(model)"]),
        ("trainer.net", ["Net()"]),
        ("head", ["backbone"]),
        ("backbone", ["torchvision.models.resnet18()"]),
        ("other", ["Net()", "Head()"]),
        ("device", []),
    ],
)
def test_what_a_key_holds(key: str, expected: list[str]) -> None:
    ctx = _context(FLOW)
    assert _code(ctx.values.sources(key, _function(ctx, "main"))) == expected


def test_wrappers_and_moves_are_seen_through() -> None:
    ctx = _context(FLOW)
    call = cst.parse_expression("DDP(model.cuda(), device_ids=[0])")
    assert isinstance(call, cst.Call)
    inner = unwrap(call, "torch.nn.parallel.DistributedDataParallel")
    assert _code([inner]) == ["model"]
    assert ctx.values.same_object(cst.parse_expression("model.half().train()"), "model")
    assert not ctx.values.same_object(cst.parse_expression("Net()"), "model")


def test_model_facts_follow_the_value_flow() -> None:
    ctx = _context(FLOW)
    main = _function(ctx, "main")
    ctx.ancestors[:] = [ctx.module, main]  # as the shared walk has them inside `main`
    facts = ctx.models.model_for(cst.parse_expression("model"), at=main)
    assert facts is not None
    assert facts.reference == "torchvision.models.resnet50"
    facts = ctx.models.model_for(cst.parse_expression('models["ema"]'), at=main)
    assert facts is not None
    assert facts.reference == "torchvision.models.resnet50"


def test_a_model_in_a_container_is_checked_like_a_name() -> None:
    source = textwrap.dedent(
        """
        import torch
        import torchvision

        def evaluate(images):
            models = {"net": torchvision.models.resnet50(), "ema": torchvision.models.resnet50()}
            models["ema"].eval()
            with torch.no_grad():
                a = models["net"](images)
                b = models["ema"](images)
            return a, b
        """
    )
    result = lint_bytes(source.encode(), "x.py", FileSettings(enabled=frozenset({"BN101"})))
    assert [(f.code, f.span.start.row) for f in result.findings] == [("BN101", 9)]
    assert "`models['net']`" in result.findings[0].message


# -- intent ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("loss.backward()", True),
        ("self.manual_backward(loss)", True),
        ("optimizer.step()", True),
        ("self.opt_g.step()", True),
        ("scaler.step(optimizer)", True),
        ("scheduler.step()", False),
        ("env.step(action)", False),
        ("model(x)", False),
    ],
)
def test_one_training_step_predicate_for_both_front_ends(code: str, expected: bool) -> None:
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    assert is_training_step(call) is expected
    node = ast.parse(code, mode="eval").body
    assert isinstance(node, ast.Call)
    if isinstance(node.func, ast.Attribute):
        receiver = ast.unparse(node.func.value)
        assert is_step_name(node.func.attr, receiver) is expected
    summary = index_source(
        f"def step(loss, optimizer, self, env, scheduler, scaler, model, x):\n    {code}\n", "s.py"
    )
    assert summary.functions["step"][0].trains is expected


def test_eval_names() -> None:
    assert is_eval_name("validate_epoch")
    assert is_eval_name("run_inference")
    assert not is_eval_name("train_and_evaluate")
    assert not is_eval_name("test_model")  # a test function, not an evaluation


# -- narrow inputs: any node, not only the one being visited ----------------------------------


def test_chain_parent_and_enclosing_for_any_node() -> None:
    ctx = _context(
        """
        class Trainer:
            def fit(self, loader):
                for x in loader:
                    self.model(x)
        """
    )
    assert ctx.ancestors == []  # no walk in progress: the parent index answers
    cls = ctx.module.body[0]
    assert isinstance(cls, cst.ClassDef)
    fit = cls.body.body[0]
    assert isinstance(fit, cst.FunctionDef)
    loop = fit.body.body[0]
    assert isinstance(loop, cst.For)
    statement = loop.body.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    expr = statement.body[0]
    assert isinstance(expr, cst.Expr)
    call = expr.value
    chain = ctx.chain(call)
    assert chain[0] is call
    assert chain[-1] is ctx.module
    assert ctx.parent(call) is expr
    assert ctx.enclosing(call, cst.For) is loop
    assert ctx.enclosing(call, cst.FunctionDef) is fit
    assert ctx.enclosing(call, cst.ClassDef) is cls
    assert ctx.enclosing(cls, cst.ClassDef) is None


def test_the_analysis_layer_imports_no_rule_code() -> None:
    import bnlint.analysis

    root = Path(bnlint.analysis.__file__).parent
    upward = ("bnlint.registry", "bnlint.checks", "bnlint.engine", "bnlint.cli", "bnlint.api")
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(upward):
                found.append(f"{path.relative_to(root)}: {node.module}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{path.relative_to(root)}: {a.name}"
                    for a in node.names
                    if a.name.startswith(upward)
                ]
    assert found == []


def test_a_model_of_one_scope_agrees_with_the_whole_file() -> None:
    ctx = _context(FLOW)
    main = _function(ctx, "main")
    for scope in (main, ctx.module):
        bounded = SemanticModel(ctx.module, scope).scope(scope)
        whole = ctx.semantic.scope(scope)
        assert bounded.assignments == whole.assignments
        assert bounded.module_uses == whole.module_uses
        assert bounded.called == whole.called
        assert bounded.loop_sources == whole.loop_sources
        assert bounded.names.keys() == whole.names.keys()
