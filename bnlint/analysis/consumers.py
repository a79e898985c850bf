"""How a model's output is consumed, read by the project index over `ast` nodes.

A BatchNorm after a model's last Linear is a mistake on class scores (BN201) but the usual
design of an embedding that another module reads: an image encoder feeding a caption
decoder, a visual front end feeding a GRU back end, features fed to a metric-learning head.
The index records, per class name, one place where an instance's output is passed to an
instance of another class (`features = encoder(images); decoder(features, captions)`).
A loss that takes class scores (`nn.CrossEntropyLoss()`) is not such a consumer.
"""

from __future__ import annotations

import ast

from bnlint.analysis import ast_nodes

# torch.nn losses that read class scores or regression outputs: their input is a prediction.
_PREDICTION_LOSSES = frozenset(
    {
        "CrossEntropyLoss",
        "NLLLoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "MultiLabelSoftMarginLoss",
        "MultiLabelMarginLoss",
        "MultiMarginLoss",
        "SoftMarginLoss",
        "KLDivLoss",
        "MSELoss",
        "L1Loss",
        "SmoothL1Loss",
        "HuberLoss",
        "PoissonNLLLoss",
        "GaussianNLLLoss",
        "CTCLoss",
    }
)


def module_consumers(nodes: list[ast.AST]) -> dict[str, int]:
    """Class name -> the first line where an instance's output feeds another class's instance.

    >>> `enc = EncoderCNN(256); dec = DecoderRNN(...); f = enc(x); dec(f, captions)`
    >>> -> {"EncoderCNN": line of `dec(f, captions)`}
    """
    found: dict[str, int] = {}
    # Only bodies that construct two instances can pass one's output to the other: find
    # those lines first from the node list the index already holds, then scan just them.
    lines = [
        node.lineno
        for node in nodes
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and _constructed(node.value) is not None
    ]
    if len(lines) < 2:
        return found
    for node in nodes:
        if isinstance(node, ast.Module):
            _scan(node.body, found)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = node.end_lineno or node.lineno
            if sum(1 for line in lines if node.lineno <= line <= end) >= 2:
                _scan(node.body, found)
    return found


def _scan(body: list[ast.stmt], found: dict[str, int]) -> None:
    instances: dict[str, str] = {}  # variable -> class name of the instance it holds
    outputs: dict[str, str] = {}  # variable -> class name of the instance that produced it
    for statement in _flat(body):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = ast_nodes.dotted_name(statement.targets[0])
            if target is not None:
                instances.pop(target, None)
                outputs.pop(target, None)
        for call in _calls(statement):
            consumer = _callee_instance(call, instances)
            if consumer is None:
                continue
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                producer = _output_class(arg, instances, outputs)
                if producer is not None and producer != consumer:
                    found[producer] = min(found.get(producer, call.lineno), call.lineno)
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = ast_nodes.dotted_name(statement.targets[0])
            if target is None:
                continue
            constructed = _constructed(statement.value)
            if constructed is not None:
                instances[target] = constructed
                continue
            produced = _output_class(statement.value, instances, outputs)
            if produced is not None:
                outputs[target] = produced


def _flat(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements in source order, entering compound statements but not nested functions."""
    found: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        found.append(statement)
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                found.extend(_flat(inner))
        for handler in getattr(statement, "handlers", []):
            found.extend(_flat(handler.body))
    return found


def _calls(statement: ast.stmt) -> list[ast.Call]:
    """Calls written in the statement itself (its expressions, not its nested blocks)."""
    calls: list[ast.Call] = []
    for field, value in ast.iter_fields(statement):
        if field in ("body", "orelse", "finalbody", "handlers"):
            continue
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, ast.AST):
                calls.extend(n for n in ast.walk(child) if isinstance(n, ast.Call))
    return calls


def _constructed(value: ast.expr) -> str | None:
    """The class an expression constructs: `Net(...)`, `models.Net(...).to(device)`."""
    while (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("to", "cuda", "cpu", "train", "eval", "float", "double")
    ):
        value = value.func.value
    if not isinstance(value, ast.Call):
        return None
    name = ast_nodes.dotted_name(value.func)
    if name is None:
        return None
    last = name.rpartition(".")[2]
    if not last[:1].isupper() or last in _PREDICTION_LOSSES:
        return None
    return last


def _callee_instance(call: ast.Call, instances: dict[str, str]) -> str | None:
    name = ast_nodes.dotted_name(call.func)
    return None if name is None else instances.get(name)


def _output_class(
    value: ast.expr, instances: dict[str, str], outputs: dict[str, str]
) -> str | None:
    """The class whose instance produced `value`: `f` after `f = enc(x)`, or `enc(x)` itself."""
    if isinstance(value, ast.Call):
        return _callee_instance(value, instances)
    name = ast_nodes.dotted_name(value)
    return None if name is None else outputs.get(name)
