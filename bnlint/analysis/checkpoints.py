"""Where a file may restore saved weights, read by the project index over `ast` nodes.

A fix that changes a layer's parameters (BN202's `bias=False`) is safe only when no saved
checkpoint can be loaded into that layer: a state dict saved with the bias then fails
`load_state_dict(strict=True)` on the unexpected key, and with `strict=False` the layer
silently loses the bias it was trained with. Any of these, in any file of the project,
counts as a way to load one.
"""

from __future__ import annotations

import ast

# Methods and functions that restore weights into a model, by the last name of the call.
_LOADERS = frozenset(
    {
        "load_state_dict",
        "load_checkpoint",
        "load_pretrained",
        "from_pretrained",
        "load_state_dict_from_url",
        "load_url",
        "load_weights",
        "load_model",
        "load_file",
        "resume_checkpoint",
        "restore",
    }
)
# Keywords that ask a constructor for published weights.
_PRETRAINED_KEYWORDS = frozenset({"pretrained", "weights", "pretrained_path", "checkpoint"})
_WEIGHT_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt", ".bin", ".safetensors", ".pkl")


def weight_load(nodes: list[ast.AST]) -> tuple[int, str] | None:
    """The first place a file may load saved weights: (line, what), or None.

    >>> `model.load_state_dict(torch.load(path))` -> (line, "`load_state_dict`")
    >>> `resnet50(pretrained=True)`, a `"https://.../resnet50.pth"` URL table -> found
    >>> `resnet50(pretrained=False)`, `torch.save(...)` only -> None
    """
    found: list[tuple[int, str]] = []
    for node in nodes:
        if isinstance(node, ast.Call):
            what = _loading_call(node)
            if what is not None:
                found.append((node.lineno, what))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(("http://", "https://"))
            and node.value.split("?")[0].endswith(_WEIGHT_SUFFIXES)
        ):
            found.append((node.lineno, "a URL of published weights"))
    return min(found) if found else None


def bias_read(nodes: list[ast.AST]) -> int | None:
    """The first line that reads a layer's `.bias` other than to test it against None.

    >>> `nn.init.zeros_(m.bias)` -> its line;  `if m.bias is not None:` alone -> None
    """
    guarded: set[int] = set()
    for node in nodes:
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Attribute)
            and any(isinstance(c, ast.Constant) and c.value is None for c in node.comparators)
        ):
            guarded.add(id(node.left))
    lines = [
        node.lineno
        for node in nodes
        if isinstance(node, ast.Attribute)
        and node.attr == "bias"
        and isinstance(node.ctx, ast.Load)
        and id(node) not in guarded
    ]
    return min(lines) if lines else None


def _loading_call(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name in _LOADERS:
        return f"`{name}`"
    if (
        name == "load"
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("torch", "th")
    ):
        return "`torch.load`"
    for keyword in call.keywords:
        if keyword.arg in _PRETRAINED_KEYWORDS:
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value in (False, None, ""):
                continue
            return f"`{keyword.arg}=`"
    return None
