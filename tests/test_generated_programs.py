"""Property tests: generated programs and mutated fixtures never break bnlint.

Three sources of input: hypothesmith's syntactically valid Python (from the grammar), a
small grammar of ML-code fragments (models, modes, loops, loaders: what the rules read),
and mutations of the fixtures (lines deleted, swapped, duplicated; files truncated). For
each, with every registered rule: no exception escapes, findings lie inside the file,
every report format renders and the JSON parses, and fixing valid code keeps it valid.

The ML grammar writes the calls the fixes edit in the forms that broke them: parenthesised
arguments (`(3)`, `(2, 2)`, `("zeros")`, `(n := 2)`), walrus, starred and keyword-only
calls, comments and trailing commas inside calls. Every rule's fix, the unsafe ones too, is
applied to every generated program, alone and all together: each result must parse (as
strictly as the program did), and a second `--fix` must change nothing.

CI runs a few dozen examples per property; for thousands, outside CI:
    BNLINT_FUZZ_EXAMPLES=5000 pytest tests/test_generated_programs.py
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnlint.config import FileSettings
from bnlint.fixes import apply_edits, still_parses
from bnlint.registry import all_rules
from bnlint.report import FORMATS, RunReport, render
from bnlint.runner import FileResult, LintOptions, lint_bytes
from bnlint.source import SourceText

from .conftest import FIXTURES

_EXAMPLES = int(os.environ.get("BNLINT_FUZZ_EXAMPLES", "0"))
_FUZZ = settings(
    max_examples=_EXAMPLES or 40,
    deadline=None,
    derandomize=not _EXAMPLES,  # CI sees the same examples every run; long runs explore
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

EVERY_RULE = FileSettings(
    enabled=frozenset(code for code, rule in all_rules().items() if not rule.runtime_only)
)
RULES = {code: (rule.name, rule.summary(), rule.severity) for code, rule in all_rules().items()}
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*.py") if "fixed" not in p.name)


def _check(
    data: bytes, filename: str = "generated.py", *, prefilter: bool = True, fix: bool = False
) -> FileResult:
    """Lint with every rule and check everything a user of the result relies on."""
    result = lint_bytes(
        data, filename, EVERY_RULE, LintOptions(fix=fix, unsafe_fixes=fix, prefilter=prefilter)
    )
    assert result.error is None, result.error
    source = result.source
    for finding in result.findings:
        assert finding.filename == filename
        text = result.cell_sources.get(finding.cell) if finding.cell is not None else source
        if text is None:  # undecodable files: BN001 at the bad byte, no text to check against
            assert finding.code == "BN001"
            continue
        for where in (finding.span.start, finding.span.end):
            assert 1 <= where.row <= max(text.line_count, 1) + 1, (finding, where)
            assert 1 <= where.column <= len(text.line(where.row)) + 1, (finding, where)
        assert finding.span.start <= finding.span.end
    sources = {filename: source} if source is not None else {}
    cells = {(filename, number): cell for number, cell in result.cell_sources.items()}
    for format_name in FORMATS:
        out = render(
            format_name, RunReport(result.findings, sources, 1, rules=RULES, cell_sources=cells)
        )
        if format_name in ("json", "sarif", "gitlab"):
            json.loads(out)
    return result


def _valid(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _each_fix_alone_keeps_the_code_parsing(text: str) -> int:
    """Apply each finding's fix on its own to `text`; how many fixes there were.

    The fix loop drops a fix whose result does not parse (and reports it as an internal
    error): here each one is held to that directly, so a rule's broken edit fails the
    property even where the loop would have dropped it.
    """
    source = SourceText(text)
    result = _check(text.encode("utf-8"))
    fixes = [finding for finding in result.findings if finding.fix is not None]
    for finding in fixes:
        assert finding.fix is not None
        fixed = apply_edits(source, finding.fix.edits)
        why = still_parses(text, fixed)
        assert why is None, (finding.code, finding.fix, why, fixed)
    return len(fixes)


def _fix_keeps_valid_code_valid(text: str) -> None:
    if not _valid(text):
        return
    _each_fix_alone_keeps_the_code_parsing(text)
    result = _check(text.encode("utf-8"), fix=True)
    if result.fixed_text is not None:
        assert _valid(result.fixed_text), result.fixed_text
        assert still_parses(text, result.fixed_text) is None, result.fixed_text
        # Fixing converges: a second `--fix` of the fixed text has nothing left to apply.
        again = _check(result.fixed_text.encode("utf-8"), fix=True)
        assert again.fixed_text is None, (result.fixed_text, again.fixed_text)
        assert again.fixes_applied == 0


# --- hypothesmith: any valid Python ------------------------------------------------------


@_FUZZ
@given(hypothesmith.from_grammar())
def test_any_valid_python_is_linted_without_error(code: str) -> None:
    _check(code.encode("utf-8"), prefilter=False)


@_FUZZ
@given(hypothesmith.from_node())
def test_any_libcst_module_is_linted_without_error(code: str) -> None:
    _check(code.encode("utf-8"), prefilter=False)
    _fix_keeps_valid_code_valid(code)


# --- a grammar of ML-code fragments ------------------------------------------------------

_NAMES = st.sampled_from(
    ["model", "net", "self.model", "teacher", "ema", "backbone", "m", "models[0]"]
)
_NORMS = st.sampled_from(
    [
        "nn.BatchNorm2d({c})",
        "nn.BatchNorm1d({c}, momentum=0.9)",
        "nn.BatchNorm2d({c}, eps=1e-3, momentum=0.99)",
        "torch.nn.BatchNorm3d({c}, affine=False)",
        "nn.SyncBatchNorm({c})",
        "nn.GroupNorm(8, {c})",
        "nn.LayerNorm({c})",
        "nn.InstanceNorm2d({c})",
        "nn.Dropout(0.5)",
        "nn.Dropout2d(p=0.2)",
        "BatchNorm2d({c}, track_running_stats=False)",
        "partial(nn.BatchNorm2d, momentum=0.9)",
    ]
)
_LAYERS = st.sampled_from(
    [
        "nn.Conv2d({c}, {c}, 3, padding=1)",
        "nn.Conv2d({c}, {c}, 3, bias=False)",
        "nn.Linear({c}, {c})",
        "nn.ReLU(inplace=True)",
        "nn.Identity()",
        "nn.ConvTranspose2d({c}, {c}, 4, 2, 1)",
    ]
)


# --- calls in the forms fixes must survive --------------------------------------------


@st.composite
def _wrapped(draw: st.DrawFn, value: str, positional: bool = False) -> str:
    """`value` as written: bare, in parentheses (spaced, nested, over lines), or walrus."""
    forms = ["{v}", "{v}", "({v})", "( {v} )", "(({v}))", "(\n    {v}\n)", "({v}  # why\n)"]
    if positional:
        forms.append("n := {v}")  # a bare walrus is a valid positional argument
    forms.append("(n := {v})")
    return draw(st.sampled_from(forms)).format(v=value)


_SEPARATORS = st.sampled_from([", ", ", ", ",", ",\n    ", ",  # note\n    ", " , "])
_CLOSINGS = st.sampled_from(["", "", ",", " ,", ",\n", "  # tail\n", ",  # tail\n", "\n"])
_OPENINGS = st.sampled_from(["", "", "\n    ", "  # open\n    "])


@st.composite
def _call(
    draw: st.DrawFn,
    func: str,
    positional: list[str],
    keywords: list[tuple[str, str]],
) -> str:
    """`func(...)` with the arguments in any of the written forms, a star now and then."""
    args = [draw(_wrapped(value, positional=True)) for value in positional]
    if draw(st.integers(0, 5)) == 0:
        # Keyword-only: each positional argument by its name, when the grammar knows it.
        args = []
        keywords = [*zip(_POSITIONAL_NAMES.get(func, ()), positional, strict=False), *keywords]
    named = dict(reversed(keywords))  # one value per keyword: a repeated one does not parse
    args += [f"{key}={draw(_wrapped(value))}" for key, value in reversed(named.items())]
    star = draw(st.integers(0, 7))
    if star == 0:
        args.insert(len(positional) if args else 0, "*extra")
    elif star == 1:
        args.append("**options")
    if not args:
        return f"{func}()"
    text = args[0]
    for arg in args[1:]:
        text += draw(_SEPARATORS) + arg
    return f"{func}({draw(_OPENINGS)}{text}{draw(_CLOSINGS)})"


_POSITIONAL_NAMES = {
    "nn.Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    "nn.Linear": ("in_features", "out_features"),
    "nn.BatchNorm2d": ("num_features", "eps", "momentum"),
    "nn.BatchNorm1d": ("num_features", "eps", "momentum"),
    "DataLoader": ("dataset", "batch_size", "shuffle"),
}


@st.composite
def _layer_call(draw: st.DrawFn, channels: str) -> str:
    kind = draw(st.sampled_from(["conv", "linear", "norm"]))
    if kind == "conv":
        positional = [channels, channels, draw(st.sampled_from(["3", "1", "(3, 3)", "k"]))]
        optional = [
            ("stride", draw(st.sampled_from(["1", "2", "(2, 2)"]))),
            ("padding", draw(st.sampled_from(["1", "(1, 1)", '"same"']))),
            ("padding_mode", '"zeros"'),
            ("bias", draw(st.sampled_from(["True", "False", "use_bias"]))),
        ]
        func = "nn.Conv2d"
    elif kind == "linear":
        positional = [channels, channels]
        optional = [("bias", draw(st.sampled_from(["True", "False"])))]
        func = "nn.Linear"
    else:
        positional = [channels]
        if draw(st.booleans()):
            positional.append(draw(st.sampled_from(["1e-5", "0.9", "0.99", "1", "momentum"])))
        optional = [
            ("momentum", draw(st.sampled_from(["0.1", "0.9", "0.99", "0.99999999999", "1"]))),
            ("eps", draw(st.sampled_from(["1e-5", "1e-3", "0.9"]))),
            ("affine", draw(st.sampled_from(["True", "False"]))),
        ]
        func = draw(st.sampled_from(["nn.BatchNorm2d", "nn.BatchNorm1d"]))
    count = draw(st.integers(0, len(positional)))
    positional = positional[: max(count, 1)]
    keywords = draw(st.lists(st.sampled_from(optional), max_size=3, unique_by=lambda kv: kv[0]))
    return draw(_call(func, positional, keywords))


@st.composite
def _loader_call(draw: st.DrawFn) -> str:
    positional = ["train_set"]
    keywords = draw(
        st.lists(
            st.sampled_from(
                [
                    ("batch_size", draw(st.sampled_from(["64", "1", "args.batch_size"]))),
                    ("shuffle", "True"),
                    ("num_workers", "4"),
                    ("drop_last", draw(st.sampled_from(["False", "True"]))),
                    ("collate_fn", "lambda batch: (\n        batch\n    )"),
                ]
            ),
            max_size=4,
            unique_by=lambda kv: kv[0],
        )
    )
    return draw(_call("DataLoader", positional, keywords))


@st.composite
def ml_modules(draw: st.DrawFn) -> str:
    """A module class and a Sequential of generated layer calls, a loader, mode calls."""
    channels = draw(st.sampled_from(["16", "c", "(16)", "self.width"]))
    layers = draw(st.lists(_layer_call(channels), min_size=1, max_size=4))
    lines = ["class Net(nn.Module):", "    def __init__(self, c=16):", "        super().__init__()"]
    for index, layer in enumerate(layers):
        lines.append(f"        self.layer{index} = " + layer.replace("\n", "\n        "))
    lines += ["", "    def forward(self, x):"]
    calls = "x"
    for index in range(len(layers)):
        calls = f"self.layer{index}({calls})"
    lines += [f"        return {calls}", ""]
    block = ", ".join(layer.replace("\n", "\n    ") for layer in draw(st.lists(_layer_call("8"))))
    lines.append(f"features = nn.Sequential({block})")
    lines.append("model = Net()")
    lines.append("optimizer = torch.optim.SGD(model.parameters(), lr=0.1)")
    lines.append("train_loader = " + draw(_loader_call()))
    lines.append(
        draw(
            st.sampled_from(
                [
                    "model.eval",
                    "(model.eval)",
                    "(model\n    .eval  # now\n)",
                    "model.train",
                    "for m in model.modules():\n    if isinstance(m, nn.BatchNorm2d):\n"
                    "        m.momentum = (0.99)",
                    "with torch.no_grad():\n    out = model(images)",
                    "@torch.no_grad()\n@staticmethod\ndef predict(x, out=model(images)):\n"
                    "    return out",
                ]
            )
        )
    )
    return "\n".join(lines) + "\n"


@st.composite
def _model_expr(draw: st.DrawFn) -> str:
    channels = draw(st.sampled_from(["3", "16", "64", "c", "2 * c", "self.width"]))
    parts = draw(st.lists(st.one_of(_NORMS, _LAYERS, _layer_call("{c}")), min_size=0, max_size=5))
    kind = draw(st.sampled_from(["seq", "factory", "class", "call"]))
    if kind == "seq":
        return "nn.Sequential(" + ", ".join(p.format(c=channels) for p in parts) + ")"
    if kind == "factory":
        return draw(
            st.sampled_from(
                [
                    "torchvision.models.resnet18(weights=None)",
                    "timm.create_model('resnet50')",
                    "AutoModel.from_pretrained(path)",
                    "torch.load(path)",
                    "copy.deepcopy(model)",
                ]
            )
        )
    if kind == "class":
        return draw(st.sampled_from(["Net()", "Net(c)", "ResNet(num_classes=10)"]))
    return (parts[0] if parts else "nn.Identity()").format(c=channels)


_SIMPLE = st.sampled_from(
    [
        "{m}.eval()",
        "{m}.train()",
        "{m}.train(False)",
        "{m}.train(mode=True)",
        "{m}.eval",
        "{m}.requires_grad_(False)",
        "out = {m}(x)",
        "loss = criterion({m}(images), labels)",
        "loss.backward()",
        "optimizer.step()",
        "optimizer.zero_grad()",
        "torch.onnx.export({m}, x, 'model.onnx')",
        "traced = torch.jit.trace({m}, x)",
        "torch.save({m}.state_dict(), path)",
        "{m}.load_state_dict(torch.load(path))",
        "for p in {m}.parameters(): p.requires_grad = False",
        "{m} = {m}.to(device)",
        "{m}.apply(set_bn_eval)",
        "return {m}(x)",
        "yield {m}(x)",
        "pass",
        "x = x.view(1, -1)",
        "preds = {m}(x[None])",
        "print({m}.training)",
    ]
)
_BLOCKS = st.sampled_from(
    [
        "with torch.no_grad():",
        "with torch.inference_mode():",
        "for images, labels in loader:",
        "for epoch in range(epochs):",
        "for batch in DataLoader(ds, batch_size={b}, drop_last=False):",
        "while step < total:",
        "if args.evaluate:",
        "else:",
        "try:",
        "def validate({m}, loader):",
        "def train_one_epoch({m}, loader, optimizer):",
        "async def serve(request):",
        "class Net(nn.Module):",
        "def forward(self, x):",
        "@torch.no_grad()\ndef predict(x):",
        "lambda_block = lambda m: m.eval()\nif True:",
    ]
)
_HEADERS = (
    "import copy\nimport torch\nimport torch.nn as nn\nimport torchvision\nimport timm\n"
    "from functools import partial\nfrom torch.nn import BatchNorm2d\n"
    "from torch.utils.data import DataLoader\nfrom transformers import AutoModel\n"
)


@st.composite
def ml_programs(draw: st.DrawFn, depth: int = 0) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        name = draw(_NAMES)
        choice = draw(st.integers(0, 9))
        if choice < 3:
            lines.append(f"{name} = {draw(_model_expr())}")
        elif choice < 7 or depth >= 3:
            lines.append(draw(_SIMPLE).format(m=name))
        else:
            header = draw(_BLOCKS).format(
                m=name, b=draw(st.sampled_from(["1", "2", "32", "args.bs"]))
            )
            body = draw(ml_programs(depth + 1))
            lines.append(header)
            lines.extend("    " + line for line in body.splitlines())
    return "\n".join(lines)


def _repair(text: str) -> str:
    """Blocks that need a partner (`else:`, `try:`) become `if flag:`, so the program compiles."""
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped in ("else:", "try:"):
            line = line[: len(line) - len(stripped)] + "if flag:"
        lines.append(line)
    return "\n".join(lines) + "\n"


@_FUZZ
@given(ml_programs(), st.booleans())
def test_generated_training_code_is_linted_without_error(body: str, prefilter: bool) -> None:
    text = _HEADERS + _repair(body)
    _check(text.encode("utf-8"), prefilter=prefilter)
    _fix_keeps_valid_code_valid(text)


@_FUZZ
@given(ml_modules())
def test_every_fix_of_generated_models_parses_and_converges(body: str) -> None:
    text = _HEADERS + body
    assert _valid(text), text
    _check(text.encode("utf-8"), prefilter=False)
    _fix_keeps_valid_code_valid(text)


@_FUZZ
@given(st.lists(st.one_of(ml_programs(), ml_modules()), min_size=1, max_size=4))
def test_generated_notebooks_are_linted_without_error(cells: list[str]) -> None:
    sources = [_HEADERS] + [_repair(cell) for cell in cells]
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": source.splitlines(keepends=True),
                "outputs": [],
                "execution_count": None,
            }
            for source in sources
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    data = json.dumps(notebook).encode("utf-8")
    _check(data, "generated.ipynb")
    fixed = _check(data, "generated.ipynb", fix=True).fixed_text
    if fixed is None:
        return
    # Each cell runs on its own in Jupyter: each must parse as it did before the fixes.
    cells_after = ["".join(cell["source"]) for cell in json.loads(fixed)["cells"]]
    assert len(cells_after) == len(sources)
    for before, after in zip(sources, cells_after, strict=True):
        assert still_parses(before, after) is None, (before, after)
    again = _check(fixed.encode("utf-8"), "generated.ipynb", fix=True)
    assert again.fixed_text is None, (fixed, again.fixed_text)


# --- mutations of the fixtures -----------------------------------------------------------


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> tuple[str, bytes]:
    path: Path = draw(st.sampled_from(FIXTURE_FILES))
    data = path.read_bytes()
    lines = data.splitlines(keepends=True) or [b""]
    mutation = draw(
        st.sampled_from(["delete", "swap", "duplicate", "truncate", "dedent", "splice", "bytes"])
    )
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    if mutation == "delete":
        count = draw(st.integers(1, 5))
        del lines[i : i + count]
    elif mutation == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif mutation == "duplicate":
        lines.insert(j, lines[i])
    elif mutation == "dedent":
        lines[i] = lines[i].lstrip(b" ")
    elif mutation == "splice":
        other = draw(st.sampled_from(FIXTURE_FILES)).read_bytes().splitlines(keepends=True)
        lines[i:i] = other[: draw(st.integers(0, len(other)))]
    joined = b"".join(lines)
    if mutation == "truncate":
        joined = joined[: draw(st.integers(0, len(joined)))]
    elif mutation == "bytes":
        at = draw(st.integers(0, len(joined)))
        joined = joined[:at] + draw(st.binary(min_size=1, max_size=4)) + joined[at:]
    return f"{mutation}:{path.relative_to(FIXTURES)}", joined


@_FUZZ
@given(mutated_fixtures(), st.booleans())
def test_mutated_fixtures_are_linted_without_error(
    mutated: tuple[str, bytes], prefilter: bool
) -> None:
    _, data = mutated
    _check(data, prefilter=prefilter)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    _fix_keeps_valid_code_valid(text)


FIX_FIXTURES = sorted(p for p in (FIXTURES / "fix").glob("*.py") if "fixed" not in p.name)


@pytest.mark.parametrize("path", FIX_FIXTURES, ids=lambda p: p.name)
def test_fixing_a_fixture_converges_without_new_findings(path: Path) -> None:
    data = path.read_bytes()
    before = _check(data, path.name)
    fixed = _check(data, path.name, fix=True)
    assert fixed.fixed_text is not None
    assert fixed.fixes_applied > 0
    assert _valid(fixed.fixed_text)
    # Nothing the fix loop left behind is new: every remaining finding was there before.
    remaining = sorted((f.code, f.message) for f in fixed.findings)
    original = {(f.code, f.message) for f in before.findings}
    assert [finding for finding in remaining if finding not in original] == []
    assert len(fixed.findings) < len(before.findings)
    # And a second `--fix` has nothing left to do.
    again = _check(fixed.fixed_text.encode("utf-8"), path.name, fix=True)
    assert again.fixed_text is None
    assert sorted((f.code, f.message) for f in again.findings) == remaining


def test_a_decoded_source_text_round_trips() -> None:
    # The position checks above rely on SourceText's own line index.
    text = SourceText("a\r\nb\rc\n")
    assert [text.line(row) for row in (1, 2, 3)] == ["a", "b", "c"]


@pytest.mark.parametrize("path", FIXTURE_FILES[:3], ids=lambda p: p.name)
def test_truncating_a_fixture_at_every_line_never_fails(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    for end in range(len(lines) + 1):
        _check(b"".join(lines[:end]), prefilter=False)
